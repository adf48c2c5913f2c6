using RlhfSharp.Training.Ppo;

namespace RlhfSharp.Tests.Training.Ppo;

public class KlControllerTests
{
    [Fact]
    public void Adaptive_controller_moves_beta_by_the_clipped_proportional_error()
    {
        var controller = new AdaptiveKlController(initBeta: 0.05, target: 6, horizon: 10000);
        // KL 12: error = clip(12 / 6 - 1 = 1, +-0.2) = 0.2; beta = 0.05 * (1 + 0.2 * 256 / 10000) = 0.050256.
        controller.Update(12, 256);
        Assert.Equal(0.050256, controller.Beta, 12);
        // KL 6.6: error = 0.1 (inside the clip); beta = 0.050256 * (1 + 0.1 * 0.0256) = 0.05038465536.
        controller.Update(6.6, 256);
        Assert.Equal(0.05038465536, controller.Beta, 12);
        // KL 0: error = clip(-1) = -0.2; beta = 0.05038465536 * (1 - 0.2 * 1000 / 10000) = 0.0493769622528.
        controller.Update(0, 1000);
        Assert.Equal(0.0493769622528, controller.Beta, 12);
    }

    [Fact]
    public void Restored_adaptive_controller_continues_where_the_checkpoint_left_off()
    {
        var original = new AdaptiveKlController(0.05, 6, 10000);
        original.Update(12, 256);
        var resumed = new AdaptiveKlController(0.05, 6, 10000);
        resumed.Restore(original.Beta);
        original.Update(3, 512);
        resumed.Update(3, 512);
        Assert.Equal(original.Beta, resumed.Beta);
    }

    [Fact]
    public void Fixed_controller_keeps_beta()
    {
        var controller = new FixedKlController(0.1);
        controller.Update(100, 256);
        controller.Update(0, 256);
        Assert.Equal(0.1, controller.Beta);
    }
}
