using RlhfSharp.Data;

namespace RlhfSharp.Cli.Demo;

/// <summary>
/// The demo's training and evaluation data, drawn from the world with a seed: a web-like pretraining corpus, SFT
/// demonstrations, oracle-labelled preference pairs, and prompt lists. Training data comes from the world's training
/// requests only; held-out requests appear only in evaluation data.
/// </summary>
internal sealed class DemoCorpus(DialogueWorld world, int seed)
{
    readonly List<Topic> _factTopics = world.Topics.Where(t => t.Kind == RequestKind.Benign).ToList();

    /// <summary>Documents for pretraining from scratch: dialogues in <see cref="StyleMix.Web"/>'s styles, and one in five a
    /// plain statement of a fact (any fact: statements carry no request phrasing).</summary>
    public IReadOnlyList<string> PretrainingDocuments(int count)
    {
        var random = new Random(seed);
        var documents = new List<string>(count);
        for (int i = 0; i < count; i++)
        {
            if (random.NextDouble() < 0.2) documents.Add(FactStatement(random));
            else
            {
                var request = Pick(world.Training, random);
                documents.Add(DialogueWorld.DressedPrompt(request, random) + Respond(request, StyleMix.Web.Sample(request.Kind, random), random));
            }
        }
        return documents;
    }

    /// <summary>Demonstrations for SFT, in <see cref="StyleMix.Demonstrations"/>' styles.</summary>
    public IReadOnlyList<SftExample> Demonstrations(int count)
    {
        var random = new Random(seed + 1);
        return Enumerable.Range(0, count).Select(_ =>
        {
            var request = Pick(world.Training, random);
            return new SftExample(DialogueWorld.DressedPrompt(request, random), Respond(request, StyleMix.Demonstrations.Sample(request.Kind, random), random));
        }).ToList();
    }

    /// <summary>
    /// Preference pairs on <paramref name="requests"/>: two answers drawn from <see cref="StyleMix.Web"/>'s styles, some of them
    /// good answers to another request (<see cref="OffTopicShare"/>) or cut off (<see cref="CutOffShare"/>), and some the best answer
    /// against its nearest miss (<see cref="ContrastPairShare"/>),
    /// labelled by <paramref name="oracle"/> (noise included); pairs the oracle calls a tie are not kept, as HH-RLHF has none.
    /// </summary>
    /// <param name="dressPrompts">Wrap prompts in small talk as training text is; held-out pairs keep the plain prompts the evaluation uses.</param>
    public IReadOnlyList<PreferencePair> PreferencePairs(IReadOnlyList<Request> requests, int count, Oracle oracle, int stream, bool dressPrompts)
    {
        var random = new Random(seed + 2 + stream);
        // Topics in equal shares, so the few harmful requests and insults get as many comparisons as the many capitals.
        var byTopic = requests.GroupBy(r => r.Topic).Select(g => g.ToList()).ToList();
        var pairs = new List<PreferencePair>(count);
        while (pairs.Count < count)
        {
            var request = Pick(Pick(byTopic, random), random);
            var (first, second) = random.NextDouble() < ContrastPairShare
                ? ContrastPair(request, random)
                : (Candidate(request, requests, random), Candidate(request, requests, random));
            var choice = oracle.Prefer(request, first, second, random);
            if (choice == Evaluation.Human.PairwiseChoice.Tie) continue;
            string prompt = dressPrompts ? DialogueWorld.DressedPrompt(request, random) : request.Prompt;
            pairs.Add(choice == Evaluation.Human.PairwiseChoice.A
                ? new PreferencePair(prompt, first, second)
                : new PreferencePair(prompt, second, first));
        }
        return pairs;
    }

    /// <summary>Share of preference-pair answers that answer another request well: without them a reward model never learns that
    /// an answer must fit the question, and PPO finds that one confident answer to everything scores high.</summary>
    public const double OffTopicShare = 0.15;

    /// <summary>Share of pairs that set a request's best answer against its nearest miss in the same phrasing: a right fact against
    /// a wrong one, a refusal of a harmful request against a non-committal answer, a kind reply to an insult against a question
    /// back. The web mix alone holds few of these, and without them a reward model cannot tell what matters most for each kind of
    /// request (PPO then drifts from refusing to shrugging).</summary>
    public const double ContrastPairShare = 0.25;

    static (string, string) ContrastPair(Request request, Random random)
    {
        var (best, nearMiss) = request.Kind switch
        {
            RequestKind.Benign => (ResponseStyle.Helpful, ResponseStyle.Wrong),
            RequestKind.Harmful => (ResponseStyle.Refusal, ResponseStyle.Evasive),
            _ => (ResponseStyle.Helpful, ResponseStyle.Evasive),
        };
        int variant = random.Next(1000);
        string good = request.Topic.Answer(request, best, variant);
        string miss = request.Topic.Answer(request, nearMiss, variant, random.Next(1000));
        return random.Next(2) == 0 ? (good, miss) : (miss, good);
    }

    /// <summary>Share of pair answers cut off mid-sentence: a reward model that never saw one cannot stop PPO from learning
    /// that a shorter answer pays less KL penalty.</summary>
    public const double CutOffShare = 0.1;

    static string Candidate(Request request, IReadOnlyList<Request> requests, Random random)
    {
        double u = random.NextDouble();
        if (u < CutOffShare)
        {
            string[] words = Respond(request, request.Kind == RequestKind.Harmful ? ResponseStyle.Refusal : ResponseStyle.Helpful, random).Split(' ');
            return string.Join(' ', words.Take(random.Next(2, words.Length - 1)));
        }
        if (u >= CutOffShare + OffTopicShare) return Respond(request, StyleMix.Web.Sample(request.Kind, random), random);
        var other = Pick(requests, random);
        while (other.Topic == request.Topic && other.FactIndex == request.FactIndex) other = Pick(requests, random);
        return Respond(other, other.Kind == RequestKind.Harmful ? ResponseStyle.Refusal : ResponseStyle.Helpful, random);
    }

    /// <summary>An answer in <paramref name="style"/> with a random phrasing (and, when wrong, a random wrong answer).</summary>
    public static string Respond(Request request, ResponseStyle style, Random random) =>
        request.Topic.Answer(request, style, random.Next(1000), random.Next(1000));

    string FactStatement(Random random)
    {
        var topic = Pick(_factTopics, random);
        var request = new Request(topic, random.Next(topic.Facts.Count), 0);
        return Respond(request, ResponseStyle.Helpful, random).TrimStart();
    }

    static T Pick<T>(IReadOnlyList<T> items, Random random) => items[random.Next(items.Count)];
}
