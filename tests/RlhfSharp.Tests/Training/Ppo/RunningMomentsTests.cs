using RlhfSharp.Training.Ppo;
using static TorchSharp.torch;

namespace RlhfSharp.Tests.Training.Ppo;

public class RunningMomentsTests
{
    [Fact]
    public void Merged_batches_give_the_moments_of_all_scores_together()
    {
        var moments = new RunningMoments();
        // Batch [1, 2, 3]: mean 2, sample std sqrt(((-1)^2 + 0 + 1^2) / 2) = 1.
        var (mean, std) = moments.Update(tensor(new float[] { 1, 2, 3 }));
        Assert.Equal(2, mean, 12);
        Assert.Equal(1, std, 12);
        // Batch [4, 10]: mean 7, sample std sqrt((9 + 9) / 1) = 4.2426407.
        (mean, std) = moments.Update(tensor(new float[] { 4, 10 }));
        Assert.Equal(7, mean, 12);
        Assert.Equal(4.2426407, std, 6);
        // All of [1, 2, 3, 4, 10]: mean 20 / 5 = 4; squared deviations 9 + 4 + 1 + 0 + 36 = 50;
        // np.std(x, ddof=1) = sqrt(50 / 4) = 3.5355339 (population variance 50 / 5 = 10).
        Assert.Equal(5, moments.Count);
        Assert.Equal(4, moments.Mean, 12);
        Assert.Equal(10, moments.Variance, 12);
        Assert.Equal(3.5355339, moments.Std, 6);
    }

    [Fact]
    public void Std_is_one_until_two_scores_are_seen()
    {
        var moments = new RunningMoments();
        Assert.Equal(1, moments.Std);
        moments.Update(tensor(new float[] { 5 }));
        Assert.Equal(5, moments.Mean);
        Assert.Equal(1, moments.Std);
    }

    [Fact]
    public void Restored_moments_continue_where_the_checkpoint_left_off()
    {
        var original = new RunningMoments();
        original.Update(tensor(new float[] { 1, 2, 3 }));
        var resumed = new RunningMoments();
        resumed.Restore(original.State);
        original.Update(tensor(new float[] { 4, 10 }));
        resumed.Update(tensor(new float[] { 4, 10 }));
        Assert.Equal(original.State, resumed.State);
    }
}
