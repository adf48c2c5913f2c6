using RlhfSharp.Data;

namespace RlhfSharp.Tests.Training;

/// <summary>Seeded token-id tasks a tiny model can learn (vocabulary of at least 97), for the trainers' tests.</summary>
public static class SyntheticTasks
{
    /// <summary>Prompt: 4 random tokens of 1..20; response: the same tokens plus one (a rule the model can learn).</summary>
    public static List<EncodedSft> ShiftTask(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ =>
        {
            int[] prompt = Enumerable.Range(0, 4).Select(_ => random.Next(1, 21)).ToArray();
            int[] response = prompt.Select(t => t + 1).ToArray();
            int[] labels = [.. Enumerable.Repeat(-100, 4), .. response];
            return new EncodedSft([.. prompt, .. response], labels, 4, Truncation.None);
        }).ToList();
    }

    /// <summary>The chosen sequence contains token 7, the rejected one never does.</summary>
    public static List<EncodedPreference> ContainsSevenTask(int count, int seed)
    {
        var random = new Random(seed);
        int[] Sequence(bool withSeven)
        {
            int[] ids = Enumerable.Range(0, 6).Select(_ => random.Next(10, 90)).ToArray();
            if (withSeven) ids[random.Next(2, 6)] = 7;
            return ids;
        }
        return Enumerable.Range(0, count).Select(_ =>
            new EncodedPreference(new EncodedSequence(Sequence(true), 2, Truncation.None), new EncodedSequence(Sequence(false), 2, Truncation.None))).ToList();
    }
}
