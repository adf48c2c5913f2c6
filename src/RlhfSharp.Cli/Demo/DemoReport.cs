using System.Globalization;
using System.Text.Json;
using RlhfSharp.Evaluation.Toxicity;
using RlhfSharp.IO;
using RlhfSharp.Reporting;
using RlhfSharp.Training.Plots;

namespace RlhfSharp.Cli.Demo;

/// <summary>The demo's report.md and report.html: what ran, what it achieved against the reference experiment, and what to do next.</summary>
internal static class DemoReport
{
    public const string HtmlFile = "report.html", MarkdownFile = "report.md";

    /// <summary>The reference experiment's human evaluation (GPT-J-6B on Anthropic HH, trlx): RLHF vs SFT on 100 prompts.</summary>
    const int ReferenceWins = 30, ReferenceTies = 54, ReferenceLosses = 16;

    public static void Write(DemoPipeline pipeline, DemoSettings settings, DemoRunLog log)
    {
        var results = JsonSerializer.Deserialize<DemoResults>(File.ReadAllText(pipeline.At("eval", DemoEvaluation.ResultsFile)), DemoEvaluation.Json)
            ?? throw new RlhfException($"{pipeline.At("eval", DemoEvaluation.ResultsFile)}: empty");
        if (results.Ppo is not null)
            TrainingCurvePlot.FromMetrics(pipeline.At("ppo"), TrainingCurvePlot.RewardFileName, TrainingCurvePlot.RewardCurves,
                "PPO: reward-model score of the rollouts, and KL to the SFT model");
        if (results.Dpo is not null)
            TrainingCurvePlot.FromMetrics(pipeline.At("dpo"), "accuracy_curve", [new("rewards/accuracies"), new("eval_rewards/accuracies")],
                "DPO: how often the implicit reward ranks the chosen response first");
        if (results.Grpo is not null)
            TrainingCurvePlot.FromMetrics(pipeline.At("grpo"), TrainingCurvePlot.RewardFileName,
                [new(DemoEvaluation.RewardModelMetric), new(DemoEvaluation.RuleRewardMetric), new("kl", SecondaryAxis: true)],
                "GRPO: reward-model score and rule reward of the completions, and KL to the SFT model");
        TrainingCurvePlot.FromMetrics(pipeline.At("base"), "loss_curve", TrainingCurvePlot.LossCurves, "pretraining loss");
        TrainingCurvePlot.FromMetrics(pipeline.At("sft"), "loss_curve", TrainingCurvePlot.LossCurves, "SFT loss (response tokens)");
        TrainingCurvePlot.FromMetrics(pipeline.At("rm"), "accuracy_curve", [new("accuracy"), new("eval_accuracy")], "reward model accuracy");

        var report = Build(pipeline, settings, log, results);
        AtomicFile.WriteAllText(pipeline.At(MarkdownFile), report.ToMarkdown());
        AtomicFile.WriteAllText(pipeline.At(HtmlFile), report.ToHtml());
    }

    /// <summary>The rounds table: what each round collected, how well its reward model ranks held-out pairs, and how its policy did.</summary>
    static void RoundsSection(ReportDocument doc, DemoSettings settings, IReadOnlyList<RoundResult> rounds)
    {
        doc.Heading("Rounds of feedback");
        doc.Paragraph($"Round 1 is PPO against the reward model trained on the oracle's {settings.PreferencePairs} labelled pairs. In each later round " +
            $"(rlhf loop), the previous round's policy answered {settings.RoundComparisons} fresh training prompts twice, at temperature 1 (two samples " +
            $"of one policy show where it is unsure: the mistakes it still makes beside its good answers); {settings.RoundJudges} simulated annotators " +
            "(the oracle with its label noise, each flipping its own coin) judged every comparison blind in a real annotation server on loopback, " +
            "through the same HTTP API as the judging page; the judgments were exported as preference pairs (ties dropped); the reward model " +
            $"continued for {settings.RoundRewardSteps} steps on the earlier pairs and the new ones; PPO continued from the previous round's policy " +
            $"with round 1's settings but a learning rate of {settings.RoundPpoLearningRate:G3} (near the reward's ceiling round 1's rate barely moves " +
            "it); and the annotators judged the new policy against the previous one on held-out prompts (the majority of their votes per item).");
        doc.Table(["round", "preferences collected", "agreement", "RM held-out accuracy", "wins / ties / losses vs SFT", "wins / ties / losses vs previous round", "wall time"],
            rounds.Select(x => (IReadOnlyList<Inline>)[
                $"{x.Round} ({x.Policy})",
                x.Round == 1 ? $"{x.Judgments} oracle labels" : $"{x.Judgments} judgments of {x.Comparisons} comparisons ({x.PreferencePairs} pairs, ties dropped)",
                x.Agreement is { } agreement ? $"{agreement:P0}" + (x.Kappa is { } kappa ? $" (kappa {kappa:F2})" : "") : "",
                $"{x.RewardModelAccuracy:P1}",
                $"{x.VsSft.Wins} / {x.VsSft.Ties} / {x.VsSft.Losses}",
                x.VsPrevious is { } p ? $"{p.BWins} / {p.Ties} / {p.AWins} (sign test p = {p.SignTestP:G3})" : "(SFT: see left)",
                Seconds(x.Seconds),
            ]));
    }

    static ReportDocument Build(DemoPipeline pipeline, DemoSettings settings, DemoRunLog log, DemoResults r)
    {
        var methods = r.Methods.Select(DemoStages.Parse).ToList();
        string methodList = string.Join(", ", methods.Select(m => m.Label()));
        int prompts = r.Compared[0].VsSft.Prompts;
        var doc = new ReportDocument("RlhfSharp demo: RLHF methods compared end to end on a built-in dialogue world");
        doc.Paragraph($"A {settings.Name} run (seed {settings.Seed}) of the reference experiment in miniature, with nothing downloaded: a tokenizer and a small GPT-2 " +
            $"trained from scratch on a generated corpus, supervised fine-tuning on demonstrations of mixed quality, a reward model on preference pairs labelled " +
            $"by an oracle annotator (who disagrees with itself {settings.LabelNoise:P0} of the time, as people do), then {methodList} trained from the same SFT " +
            $"model, and the evaluation that shows what each achieved: the oracle judges each method against SFT, and against each other, blind on {prompts} " +
            "held-out prompts (unseen combinations of known facts and phrasings); the reward model scores every model's answers; each method's KL to SFT " +
            "is measured; and a toxicity classifier scores them all.");

        doc.Heading("Result");
        var sftSeconds = log.Seconds(DemoStage.Sft);
        doc.Table(["method", "wins / ties / losses vs SFT", "reward-model score", "KL to SFT (nats)", "mean toxicity", "training wall time"],
        [
            ["SFT (the starting point)", "", $"{r.Sft.RewardModelScore:F2}", "0", $"{r.Sft.MeanToxicity:F3}", Seconds(r.Sft.TrainingSeconds)],
            .. r.Compared.Select(m => (IReadOnlyList<Inline>)[DemoStages.Parse(m.Method).Label(), $"{m.VsSft.Wins} / {m.VsSft.Ties} / {m.VsSft.Losses}",
                $"{m.RewardModelScore:F2}", $"{m.KlToSft:F2} ± {m.KlStandardError:F2}", $"{m.Toxicity.Mean:F3}", Seconds(m.TrainingSeconds)]),
            ["reference experiment: PPO on GPT-J-6B, HH data, people judging", $"{ReferenceWins} / {ReferenceTies} / {ReferenceLosses}", "", "", "", ""],
        ]);
        doc.Paragraph($"Wins, ties and losses: the oracle's blind verdicts on {prompts} held-out prompts, both models sampled at temperature " +
            $"{DemoEvaluation.EvalTemperature}. Reward-model score: the reward model's mean score of those answers. KL to SFT: the mean over " +
            $"{r.Kl.SamplesPerPrompt} responses to each of the {r.Kl.Prompts} prompts, sampled from the method at temperature {r.Kl.Temperature:0.#} " +
            $"(up to {r.Kl.MaxNewTokens} tokens or the next human turn, as PPO's rollouts), of the response's summed log p(method) - log p(SFT) over its " +
            "tokens: an unbiased estimate of the KL divergence of the method from SFT in nats per response, ± its standard error. Mean toxicity: the toxicity protocol below. " +
            "Training wall time: the stage's wall-clock seconds.");
        if (r.HeadToHead.Count > 0)
        {
            doc.Paragraph("Head to head, on the same answers (the oracle judging blind):");
            doc.Table(["", "wins", "ties", "losses", "sign test p"], r.HeadToHead.Select(h => (IReadOnlyList<Inline>)[
                $"{DemoStages.Parse(h.Model).Label()} against {DemoStages.Parse(h.Against).Label()}", $"{h.Wins}", $"{h.Ties}", $"{h.Losses}", $"{h.SignTestP:G3}"]));
        }
        if (r.Rounds is { } rounds) RoundsSection(doc, settings, rounds);
        doc.Paragraph("Quality bars of the full demo:");
        var bars = Bars(r);
        doc.Table(["bar", "measured", ""], bars.Select(b => (IReadOnlyList<Inline>)[b.Name, b.Measured, Inline.Verdict(b.Pass)]));
        if (bars.Any(b => !b.Pass))
            doc.Paragraph(Inline.Verdict(false) + " marks a bar this run misses. The reward-model section below shows which comparisons it gets wrong: what it " +
                "cannot check, a method optimising against it cannot learn, and a policy pushed harder against it learns its blind spots instead.");

        if (r.Ppo is { } ppo)
        {
            doc.Heading("PPO: the reward rises while the KL penalty holds the policy near SFT");
            doc.Paragraph($"{ppo.Iterations} iterations of {settings.PpoBatch} rollouts. The reward-model score of the rollouts went from " +
                $"{ppo.FirstReward:F2} (mean of the first {ppo.Window} iterations) to {ppo.LastReward:F2} (the last {ppo.Window})" +
                (ppo.LastEvalReward is double e ? $"; greedy responses to held-out prompts: {ppo.FirstEvalReward:F2} -> {e:F2}" : "") +
                $". Over the last {ppo.Window} iterations the KL to the SFT model averaged {ppo.LastKl:F2} nats per response against an " +
                $"adaptive target of {ppo.KlTarget:G3}; the controller moved the KL coefficient from {ppo.FirstBeta:G3} to {ppo.LastBeta:G3}.");
            doc.Image("ppo/reward_curve.png", pipeline.At("ppo", "reward_curve.png"), "PPO reward and KL");
        }

        if (r.Dpo is { } dpo)
        {
            doc.Heading("DPO: the preference pairs train the policy directly, with no reward model");
            doc.Paragraph($"{dpo.Steps} steps of {settings.DpoBatch} pairs (the first {settings.DpoPairs} of the reward model's {settings.PreferencePairs} training pairs, " +
                "each once: " + Inline.Code("data/prefs-dpo.jsonl") + $"), with beta {dpo.Beta:G3}: the policy's implicit reward, " +
                "beta x log(policy / SFT) of a response, is trained to rank each chosen response above the rejected one. The loss went from " +
                $"{dpo.FirstLoss:F3} (mean of the first {dpo.Window} logged records; ln 2 = 0.693 at the start) to {dpo.LastLoss:F3} (the last {dpo.Window}), and the " +
                $"implicit reward ranked {dpo.FirstAccuracy:P0} -> {dpo.LastAccuracy:P0} of the training pairs right" +
                (dpo.HeldOutAccuracy is double accuracy ? $"; on the {r.RewardModel.HeldOutPairs} held-out pairs {accuracy:P1} (margin {dpo.HeldOutMargin:F2}), " +
                    $"where the reward model ranks {r.RewardModel.HeldOutAccuracy:P1}" : "") + ".");
            doc.Image("dpo/accuracy_curve.png", pipeline.At("dpo", "accuracy_curve.png"), "DPO implicit reward accuracy");
        }

        if (r.Grpo is { } grpo)
        {
            doc.Heading("GRPO: groups of completions ranked by the reward model and by the world's facts");
            doc.Paragraph($"{grpo.Steps} steps, each sampling {settings.GrpoGenerations} completions for each of {settings.GrpoPrompts} training prompts; a completion's " +
                "advantage is its reward minus its group's mean, divided by the group's standard deviation, so no value model is trained. The reward is the " +
                $"reward model's score plus {settings.GrpoRuleWeight:G3} x a rule reward: 1 when the completion contains the fact's answer (" +
                Inline.Code("exact-match:field=answer,mode=contains") + $" on the prompt file's " + Inline.Code("answer") + " field; harmful requests and " +
                $"insults have none). Over the run the reward-model score of the completions went from {grpo.FirstRewardModel:F2} to {grpo.LastRewardModel:F2} and the " +
                $"share that gives the right answer from {grpo.FirstRuleReward:P0} to {grpo.LastRuleReward:P0} (means of the first and last {grpo.Window} steps, over all " +
                $"prompts); the KL to SFT ended at {grpo.LastKl:F3} per token (beta {settings.GrpoBeta:G3}); {grpo.ZeroSpreadShare:P0} of the groups scored " +
                "alike and taught nothing" + (grpo.LastEvalReward is double e ? $"; greedy responses to held-out prompts scored {e:F2} at the end" : "") + ".");
            doc.Image("grpo/reward_curve.png", pipeline.At("grpo", "reward_curve.png"), "GRPO rewards and KL");
        }

        doc.Heading("Blind pairwise comparisons");
        doc.Paragraph($"Every model answered the same {prompts} held-out prompts with the same sampling (temperature {DemoEvaluation.EvalTemperature}, seed {settings.Seed}); the judge ({r.Compared[0].VsSft.Judge}) saw " +
            "two answers at a time without knowing which model wrote which. The statistics are the ones used for people's judgments " +
            "(" + Inline.Code("rlhf eval pairwise report") + "); each comparison's answers and verdicts are in " + Inline.Code("eval/pairwise/A-vs-B/") + ".");
        doc.Table(["", "at least as good", "wins / ties / losses", "win rate among decided prompts (95% Wilson interval)", "sign test p"],
            r.Compared.Select(m => m.VsSft).Concat(r.HeadToHead).Select(p => (IReadOnlyList<Inline>)[
                $"{ModelLabel(p.Model)} against {ModelLabel(p.Against)}", $"{p.Wins + p.Ties} of {p.Prompts}", $"{p.Wins} / {p.Ties} / {p.Losses}", WinRate(p), $"{p.SignTestP:G3}"]));
        doc.Paragraph("What the oracle read in each model's answers:");
        var models = r.Styles.Keys.OrderBy(m => m == DemoEvaluation.SftName ? -1 : r.Methods.ToList().IndexOf(m)).ToList();
        var styles = Enum.GetValues<ResponseStyle>().Where(s => r.Styles.Values.Any(c => c.GetValueOrDefault(s) > 0)).ToList();
        doc.Table(["style", .. models.Select(m => (Inline)ModelLabel(m))], styles.Select(s => (IReadOnlyList<Inline>)[StyleName(s),
            .. models.Select(m => (Inline)$"{r.Styles[m].GetValueOrDefault(s)}")]));

        doc.Heading("Reward model");
        doc.Paragraph($"Trained on {settings.PreferencePairs} oracle-labelled pairs from the SFT model; on {r.RewardModel.HeldOutPairs} pairs of held-out prompts it agrees " +
            $"with the oracle's (noisy) labels on {r.RewardModel.HeldOutAccuracy:P1} and with its noise-free preference on {r.RewardModel.AccuracyVsTruth:P1}. By the styles compared:");
        doc.Table(["better answer", "worse answer", "pairs", "ranked right"], r.RewardModel.ByStylePair.Select(b => (IReadOnlyList<Inline>)[StyleName(b.Better),
            StyleName(b.Worse), $"{b.Pairs}", $"{b.Accuracy:P0}"]));

        doc.Heading("Toxicity");
        var t = r.Toxicity;
        doc.Paragraph($"RealToxicityPrompts protocol with the default scorer ({t.Scorer}): {t.SamplesPerPrompt} sampled responses to each of {t.Prompts} held-out prompts, " +
            $"every insult and harmful request among them. Mean toxicity: SFT {t.SftMean:F3}; " + string.Join("; ", r.Compared.Select(m =>
                $"{ModelLabel(m.Method)} {m.Toxicity.Mean:F3}, difference {m.Toxicity.Difference:+0.000;-0.000} (95% paired bootstrap interval " +
                $"{m.Toxicity.DifferenceLower:+0.000;-0.000} to {m.Toxicity.DifferenceUpper:+0.000;-0.000})")) + ". Full tables: " + Inline.Code("eval/toxicity/toxicity.md") + ".");
        doc.Table(["model", "split", "prompts", "mean toxicity", "expected max toxicity", "toxicity probability", "empty continuations"], ToxicityRows(pipeline));

        doc.Heading("Samples: the same held-out prompt, every model");
        doc.Table(["topic", "request", .. models.Select(m => (Inline)ModelLabel(m))], r.Samples.Select(s => (IReadOnlyList<Inline>)[s.Topic, s.Request,
            .. s.Responses.Select(a => (Inline)$"{a.Response.Trim()}\n({StyleName(a.Style)})")]));

        doc.Heading("Training");
        doc.Image("base/loss_curve.png", pipeline.At("base", "loss_curve.png"), "pretraining loss");
        doc.Image("sft/loss_curve.png", pipeline.At("sft", "loss_curve.png"), "SFT loss");
        doc.Image("rm/accuracy_curve.png", pipeline.At("rm", "accuracy_curve.png"), "reward model accuracy");
        var stages = DemoPlan.StagesOf(methods, settings.Rounds);
        doc.Table(["stage", "seconds", "output"], stages.Where(s => s != DemoStage.Report).Select(s => (IReadOnlyList<Inline>)[s.Title(),
            Seconds(log.Seconds(s)), Inline.Join(", ", s.Outputs().Select(o => Inline.Code($"{o}/")))]));
        double total = stages.Sum(s => log.Seconds(s) ?? 0);
        doc.Paragraph($"Total {total / 60:F1} minutes on {TorchSharp.torch.get_num_threads()} threads. Every model folder is a Hugging Face checkpoint " +
            "(config.json, model.safetensors, tokenizer.json) with its metrics.jsonl and TensorBoard logs.");

        doc.Heading("Next");
        string run = pipeline.At();
        string first = r.Methods[0];
        doc.Paragraph("Put the same comparisons in front of people with the annotation app, then report their judgments with the same statistics:");
        doc.Code($"./rlhf annotate serve --db {run}/annotations.db --comparisons {run}/eval/pairwise/{DemoEvaluation.PairwiseFolder(DemoEvaluation.SftName, first)}/comparisons.jsonl\n" +
                 $"./rlhf eval pairwise report --db {run}/annotations.db --out {run}/eval/human", "bash");
        doc.Paragraph("Rerun one stage (and the ones after it) from the demo's checkpoints, or run a stage on your own model and data:");
        doc.Code($"./rlhf demo --out {run} --from {first}\n" +
                 $"./rlhf ppo --policy {run}/sft --reward-model {run}/rm --prompts {run}/data/prompts.jsonl --out runs/my-ppo --max-steps 100\n" +
                 "./rlhf sft --model path/to/gpt2 --data ../shared/data/hh-rlhf/helpful-base/test.jsonl.gz --out runs/sft\n" +
                 "./rlhf reward --model runs/sft --data path/to/hh-rlhf/train.jsonl.gz --out runs/rm", "bash");
        return doc;
    }

    /// <summary>How many times its losses a method's wins against SFT must be in the full demo.</summary>
    public static int WinsPerLoss(DemoStage method) => method == DemoStage.Ppo ? 3 : 2;

    /// <summary>The full demo's quality bars with what this run measured: the reward model's, each method's against SFT, and PPO's course.</summary>
    public static IReadOnlyList<(string Name, string Measured, bool Pass)> Bars(DemoResults r)
    {
        var bars = new List<(string, string, bool)>
        {
            ("reward model held-out accuracy >= 90%", $"{r.RewardModel.HeldOutAccuracy:P1}", r.RewardModel.HeldOutAccuracy >= 0.9),
        };
        foreach (var m in r.Compared)
        {
            var p = m.VsSft;
            var method = DemoStages.Parse(m.Method);
            double atLeast = (p.Wins + p.Ties) * 100.0 / Math.Max(1, p.Prompts);
            int times = WinsPerLoss(method);
            bars.Add(($"{method.Label()} at least as good as SFT on >= 90 of 100 prompts", $"{atLeast:F0} of 100", atLeast >= 90));
            bars.Add(($"{method.Label()} wins >= {times}x as often as it loses", $"{Count(p.Wins, "win")}, {Count(p.Losses, "loss")}", p.Wins >= times * p.Losses));
            if (method == DemoStage.Ppo)
                bars.Add(("PPO's mean toxicity below SFT's", $"{m.Toxicity.Difference:+0.000;-0.000} ({m.Toxicity.DifferenceLower:+0.000;-0.000} to {m.Toxicity.DifferenceUpper:+0.000;-0.000})", m.Toxicity.Difference < 0));
        }
        if (r.Ppo is { } ppo)
        {
            bars.Add(("reward rises over PPO", $"{ppo.FirstReward:F2} -> {ppo.LastReward:F2} (first and last {ppo.Window} iterations)", ppo.LastReward > ppo.FirstReward));
            bars.Add(("KL stays near its target (within 2x)", $"{ppo.LastKl:F2} (target {ppo.KlTarget:G3}; last {ppo.Window} iterations)", ppo.KlNearTarget));
        }
        return bars;
    }

    static string Count(int n, string noun) => $"{n} {noun}{(n == 1 ? "" : noun.EndsWith('s') ? "es" : "s")}";

    static string ModelLabel(string model) => model == DemoEvaluation.SftName ? "SFT" : DemoStages.Parse(model).Label();

    static string Seconds(double? seconds) => seconds is double s ? $"{s.ToString("F0", CultureInfo.InvariantCulture)} s" : "-";

    static string WinRate(PairwiseResult p) => p.WinRate is double w
        ? $"{w:F2} ({p.WinRateLower:F2} to {p.WinRateUpper:F2})"
        : "no decided prompts";

    static string StyleName(ResponseStyle style) => style switch
    {
        ResponseStyle.Helpful => "helpful and correct",
        ResponseStyle.Evasive => "evasive",
        ResponseStyle.Wrong => "wrong",
        ResponseStyle.Rude => "rude",
        ResponseStyle.HarmfulCompliance => "harmful compliance",
        ResponseStyle.Refusal => "refusal",
        _ => "unrecognised",
    };

    static IEnumerable<IReadOnlyList<Inline>> ToxicityRows(DemoPipeline pipeline)
    {
        string path = pipeline.At("eval", "toxicity", "toxicity.json");
        var report = JsonSerializer.Deserialize<ToxicityReport>(File.ReadAllText(path), ToxicityReportWriter.Json)
            ?? throw new RlhfException($"{path}: empty");
        foreach (var model in report.Models)
            foreach (var (name, stats) in new[] { ("all", model.All), ("toxic prompts", model.ToxicPrompts), ("non-toxic prompts", model.NonToxicPrompts) })
                if (stats is not null)
                    yield return [model.Model, name, $"{stats.Prompts}", Format(stats.MeanToxicity), Format(stats.ExpectedMaximumToxicity), Format(stats.ToxicityProbability),
                        $"{stats.EmptyContinuations}"];

        static string Format(Estimate e) => $"{e.Value:F3} ({e.Lower:F3} to {e.Upper:F3})";
    }
}
