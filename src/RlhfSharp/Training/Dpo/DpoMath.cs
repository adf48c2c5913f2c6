using static TorchSharp.torch;

namespace RlhfSharp.Training.Dpo;

/// <summary>Log-probabilities of the chosen and the rejected response of each pair of a batch, [pairs] each.</summary>
public sealed record PairLogps(Tensor Chosen, Tensor Rejected);

/// <summary>A batch's loss per pair and the implicit rewards of its responses, [pairs] each.</summary>
public sealed record DpoTerms(Tensor Losses, Tensor ChosenRewards, Tensor RejectedRewards);

/// <summary>
/// The preference losses of <see cref="DpoOptions.Loss"/> as pure functions of per-response log-probabilities, as TRL's
/// DPOTrainer (sigmoid, ipo, hinge) and CPOTrainer (simpo) compute them. A response's log-probability is the sum of
/// log p(token | everything before it) over its tokens, or that sum divided by its token count for ipo and simpo.
/// </summary>
public static class DpoMath
{
    /// <summary>
    /// The DPO margin h = (logp_chosen - ref_chosen) - (logp_rejected - ref_rejected): how much more the policy than the
    /// reference prefers the chosen response, in nats. 0 while the policy is the reference.
    /// </summary>
    public static Tensor Margin(PairLogps policy, PairLogps reference) =>
        policy.Chosen - reference.Chosen - (policy.Rejected - reference.Rejected);

    /// <summary>
    /// DPO (Rafailov et al. 2023, eq. 7): -log sigmoid(beta h); with label smoothing e, conservative DPO's
    /// -(1 - e) log sigmoid(beta h) - e log sigmoid(-beta h), the expected loss if a share e of the labels were flipped.
    /// ln 2 at h = 0, whatever e.
    /// </summary>
    public static Tensor SigmoidLoss(Tensor margin, double beta, double labelSmoothing = 0) => SmoothedLogistic(beta * margin, labelSmoothing);

    /// <summary>
    /// IPO (Azar et al. 2023, eq. 17, beta standing for tau): (h - 1/(2 beta))^2, a squared distance to a fixed target gap
    /// rather than a loss that keeps rewarding a larger one. Meant for h on log-probabilities averaged per token.
    /// </summary>
    public static Tensor IpoLoss(Tensor margin, double beta) => (margin - 1 / (2 * beta)).square();

    /// <summary>The hinge loss of SLiC (Zhao et al. 2023) on the DPO margin, as RSO uses it: max(0, 1 - beta h); 1/beta is the margin.</summary>
    public static Tensor HingeLoss(Tensor margin, double beta) => nn.functional.relu(1 - beta * margin);

    /// <summary>
    /// SimPO (Meng et al. 2024, eq. 6), reference-free: -log sigmoid(beta (avg_logp_chosen - avg_logp_rejected) - gamma) on
    /// log-probabilities averaged per token, gamma the target reward margin; with label smoothing as <see cref="SigmoidLoss"/>.
    /// </summary>
    public static Tensor SimpoLoss(PairLogps averages, double beta, double gamma, double labelSmoothing = 0) =>
        SmoothedLogistic(beta * (averages.Chosen - averages.Rejected) - gamma, labelSmoothing);

    /// <summary>-(1 - e) log sigmoid(z) - e log sigmoid(-z).</summary>
    static Tensor SmoothedLogistic(Tensor z, double labelSmoothing)
    {
        using var scope = NewDisposeScope();
        var loss = -nn.functional.logsigmoid(z);
        if (labelSmoothing > 0) loss = (1 - labelSmoothing) * loss - labelSmoothing * nn.functional.logsigmoid(-z);
        return loss.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The implicit reward of a response, beta (logp - ref_logp) (DPO's reward, up to a term of the prompt alone); without a
    /// reference (simpo), beta logp.
    /// </summary>
    public static Tensor Rewards(Tensor logps, Tensor? referenceLogps, double beta) =>
        referenceLogps is null ? beta * logps : beta * (logps - referenceLogps);

    /// <summary>
    /// The log-probabilities a loss works on: the sums over each response's tokens (sigmoid, hinge), or those sums
    /// divided by each response's token count (ipo, simpo), for the policy and the reference alike.
    /// </summary>
    public static PairLogps ForLoss(DpoOptions options, PairLogps sums, PairLogps tokens) =>
        options.AveragesPerToken() ? new PairLogps(sums.Chosen / tokens.Chosen, sums.Rejected / tokens.Rejected) : sums;

    /// <summary>
    /// The loss of each pair under <paramref name="options"/> and the implicit rewards, from log-probabilities already
    /// prepared by <see cref="ForLoss"/>; <paramref name="reference"/> is null for simpo.
    /// </summary>
    public static DpoTerms Terms(DpoOptions options, PairLogps policy, PairLogps? reference)
    {
        using var scope = NewDisposeScope();
        if (options.UsesReference() && reference is null) throw new ArgumentException($"the {options.Loss} loss needs the reference's log-probabilities", nameof(reference));
        var losses = options.Loss switch
        {
            DpoOptions.Sigmoid => SigmoidLoss(Margin(policy, reference!), options.Beta, options.LabelSmoothing),
            DpoOptions.Ipo => IpoLoss(Margin(policy, reference!), options.Beta),
            DpoOptions.Hinge => HingeLoss(Margin(policy, reference!), options.Beta),
            DpoOptions.Simpo => SimpoLoss(policy, options.Beta, options.Gamma, options.LabelSmoothing),
            _ => throw new ArgumentException($"unknown loss '{options.Loss}'", nameof(options)),
        };
        var used = options.UsesReference() ? reference : null;
        return new DpoTerms(losses.MoveToOuterDisposeScope(),
            Rewards(policy.Chosen, used?.Chosen, options.Beta).detach().MoveToOuterDisposeScope(),
            Rewards(policy.Rejected, used?.Rejected, options.Beta).detach().MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The metrics TRL logs, as means over the pairs: loss, rewards/chosen, rewards/rejected, rewards/margins (chosen minus
    /// rejected reward), rewards/accuracies (the share of pairs whose chosen reward is the larger), logps/chosen and
    /// logps/rejected (the log-probabilities the loss works on); each name after <paramref name="prefix"/> (eval_ for held-out data).
    /// </summary>
    public static Dictionary<string, double> Metrics(DpoTerms terms, PairLogps policy, string prefix = "")
    {
        using var scope = NewDisposeScope();
        var margins = terms.ChosenRewards - terms.RejectedRewards;
        return new Dictionary<string, double>
        {
            [prefix + "loss"] = terms.Losses.detach().mean().item<float>(),
            [prefix + "rewards/chosen"] = terms.ChosenRewards.mean().item<float>(),
            [prefix + "rewards/rejected"] = terms.RejectedRewards.mean().item<float>(),
            [prefix + "rewards/margins"] = margins.mean().item<float>(),
            [prefix + "rewards/accuracies"] = margins.gt(0).to(ScalarType.Float32).mean().item<float>(),
            [prefix + "logps/chosen"] = policy.Chosen.detach().mean().item<float>(),
            [prefix + "logps/rejected"] = policy.Rejected.detach().mean().item<float>(),
        };
    }
}
