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
        TrainingCurvePlot.FromMetrics(pipeline.At("ppo"), TrainingCurvePlot.RewardFileName, TrainingCurvePlot.RewardCurves,
            "PPO: reward-model score of the rollouts, and KL to the SFT model");
        TrainingCurvePlot.FromMetrics(pipeline.At("base"), "loss_curve", TrainingCurvePlot.LossCurves, "pretraining loss");
        TrainingCurvePlot.FromMetrics(pipeline.At("sft"), "loss_curve", TrainingCurvePlot.LossCurves, "SFT loss (response tokens)");
        TrainingCurvePlot.FromMetrics(pipeline.At("rm"), "accuracy_curve", [new("accuracy"), new("eval_accuracy")], "reward model accuracy");

        var report = Build(pipeline, settings, log, results);
        AtomicFile.WriteAllText(pipeline.At(MarkdownFile), report.ToMarkdown());
        AtomicFile.WriteAllText(pipeline.At(HtmlFile), report.ToHtml());
    }

    static ReportDocument Build(DemoPipeline pipeline, DemoSettings settings, DemoRunLog log, DemoResults r)
    {
        var p = r.Pairwise;
        var doc = new ReportDocument("RlhfSharp demo: RLHF end to end on a built-in dialogue world");
        doc.Paragraph($"A {settings.Name} run (seed {settings.Seed}) of the reference experiment in miniature, with nothing downloaded: a tokenizer and a small GPT-2 " +
            $"trained from scratch on a generated corpus, supervised fine-tuning on demonstrations of mixed quality, a reward model on preference pairs labelled " +
            $"by an oracle annotator (who disagrees with itself {settings.LabelNoise:P0} of the time, as people do), PPO against that reward model with a KL " +
            $"penalty to the SFT model, and the evaluation that shows whether it worked: the oracle judges RLHF against SFT blind on {p.Prompts} held-out " +
            "prompts (unseen combinations of known facts and phrasings), and a toxicity classifier scores both.");

        doc.Heading("Result");
        doc.Table(["", "this run", "reference experiment (GPT-J-6B on HH, people judging)"],
        [
            ["RLHF at least as good as SFT", $"{p.Wins + p.Ties} of {p.Prompts}", $"{ReferenceWins + ReferenceTies} of 100"],
            ["RLHF wins / ties / losses", $"{p.Wins} / {p.Ties} / {p.Losses}", $"{ReferenceWins} / {ReferenceTies} / {ReferenceLosses}"],
            ["RLHF win rate among decided prompts (95% Wilson interval)", WinRate(p), "0.65"],
            ["sign test p (wins vs losses)", $"{p.SignTestP:G3}", ""],
            ["reward model accuracy on held-out pairs", $"{r.RewardModel.HeldOutAccuracy:P1} of {r.RewardModel.HeldOutPairs}", ""],
            ["mean toxicity SFT -> RLHF", $"{r.Toxicity.SftMean:F3} -> {r.Toxicity.RlhfMean:F3}", ""],
        ]);
        doc.Paragraph("Quality bars of the full demo:");
        var bars = Bars(r);
        doc.Table(["bar", "measured", ""], bars.Select(b => (IReadOnlyList<Inline>)[b.Name, b.Measured, Inline.Verdict(b.Pass)]));
        if (bars.Any(b => !b.Pass))
            doc.Paragraph(Inline.Verdict(false) + " marks a bar this run misses. The reward-model section below shows which comparisons it gets wrong: what it " +
                "cannot check, PPO cannot learn, and a policy pushed harder against it learns its blind spots instead.");

        doc.Heading("PPO: the reward rises while the KL penalty holds the policy near SFT");
        doc.Paragraph($"{r.Ppo.Iterations} iterations of {settings.PpoBatch} rollouts. The reward-model score of the rollouts went from " +
            $"{r.Ppo.FirstReward:F2} (mean of the first {r.Ppo.Window} iterations) to {r.Ppo.LastReward:F2} (the last {r.Ppo.Window})" +
            (r.Ppo.LastEvalReward is double e ? $"; greedy responses to held-out prompts: {r.Ppo.FirstEvalReward:F2} -> {e:F2}" : "") +
            $". Over the last {r.Ppo.Window} iterations the KL to the SFT model averaged {r.Ppo.LastKl:F2} nats per response against an " +
            $"adaptive target of {r.Ppo.KlTarget:G3}; the controller moved the KL coefficient from {r.Ppo.FirstBeta:G3} to {r.Ppo.LastBeta:G3}.");
        doc.Image("ppo/reward_curve.png", pipeline.At("ppo", "reward_curve.png"), "PPO reward and KL");

        doc.Heading("Blind pairwise comparison: RLHF against SFT");
        doc.Paragraph($"Both models answered the same {p.Prompts} held-out prompts with the same sampling (temperature {DemoEvaluation.EvalTemperature}, seed {settings.Seed}); the judge ({p.Judge}) saw " +
            "the two answers without knowing which model wrote which. The statistics are the ones used for people's judgments " +
            "(" + Inline.Code("rlhf eval pairwise report") + "); the comparisons are in " + Inline.Code("eval/pairwise/comparisons.jsonl") + ".");
        doc.Table(["", "RLHF better", "tie", "SFT better"], [[$"{p.Prompts} prompts", $"{p.Wins}", $"{p.Ties}", $"{p.Losses}"]]);
        doc.Paragraph("What the oracle read in each model's answers:");
        var styles = Enum.GetValues<ResponseStyle>().Where(s => r.Styles.Values.Any(c => c.GetValueOrDefault(s) > 0)).ToList();
        doc.Table(["style", "SFT", "RLHF"], styles.Select(s => (IReadOnlyList<Inline>)[StyleName(s),
            $"{r.Styles[DemoEvaluation.SftName].GetValueOrDefault(s)}", $"{r.Styles[DemoEvaluation.RlhfName].GetValueOrDefault(s)}"]));

        doc.Heading("Reward model");
        doc.Paragraph($"Trained on {settings.PreferencePairs} oracle-labelled pairs from the SFT model; on {r.RewardModel.HeldOutPairs} pairs of held-out prompts it agrees " +
            $"with the oracle's (noisy) labels on {r.RewardModel.HeldOutAccuracy:P1} and with its noise-free preference on {r.RewardModel.AccuracyVsTruth:P1}. By the styles compared:");
        doc.Table(["better answer", "worse answer", "pairs", "ranked right"], r.RewardModel.ByStylePair.Select(b => (IReadOnlyList<Inline>)[StyleName(b.Better),
            StyleName(b.Worse), $"{b.Pairs}", $"{b.Accuracy:P0}"]));

        doc.Heading("Toxicity");
        var t = r.Toxicity;
        doc.Paragraph($"RealToxicityPrompts protocol with the default scorer ({t.Scorer}): {t.SamplesPerPrompt} sampled responses to each of {t.Prompts} held-out prompts, " +
            $"every insult and harmful request among them. Mean toxicity: SFT {t.SftMean:F3}, RLHF {t.RlhfMean:F3}; difference {t.Difference:+0.000;-0.000} " +
            $"(95% paired bootstrap interval {t.DifferenceLower:+0.000;-0.000} to {t.DifferenceUpper:+0.000;-0.000}). Full tables: " + Inline.Code("eval/toxicity/toxicity.md") + ".");
        doc.Table(["model", "split", "prompts", "mean toxicity", "expected max toxicity", "toxicity probability"], ToxicityRows(pipeline));

        doc.Heading("Samples: the same held-out prompt, both models");
        doc.Table(["topic", "request", "SFT", "RLHF"], r.Samples.Select(s => (IReadOnlyList<Inline>)[s.Topic, s.Request,
            $"{s.SftResponse.Trim()}\n({StyleName(s.SftStyle)})", $"{s.RlhfResponse.Trim()}\n({StyleName(s.RlhfStyle)})"]));

        doc.Heading("Training");
        doc.Image("base/loss_curve.png", pipeline.At("base", "loss_curve.png"), "pretraining loss");
        doc.Image("sft/loss_curve.png", pipeline.At("sft", "loss_curve.png"), "SFT loss");
        doc.Image("rm/accuracy_curve.png", pipeline.At("rm", "accuracy_curve.png"), "reward model accuracy");
        doc.Table(["stage", "seconds", "output"], DemoStages.All.Where(s => s != DemoStage.Report).Select(s => (IReadOnlyList<Inline>)[s.Title(),
            log.Seconds(s)?.ToString("F1", CultureInfo.InvariantCulture) ?? "-", Inline.Join(", ", s.Outputs().Select(o => Inline.Code($"{o}/")))]));
        double total = DemoStages.All.Sum(s => log.Seconds(s) ?? 0);
        doc.Paragraph($"Total {total / 60:F1} minutes on {TorchSharp.torch.get_num_threads()} threads. Every model folder is a Hugging Face checkpoint " +
            "(config.json, model.safetensors, tokenizer.json) with its metrics.jsonl and TensorBoard logs.");

        doc.Heading("Next");
        string run = pipeline.At();
        doc.Paragraph("Put the same comparisons in front of people with the annotation app, then report their judgments with the same statistics:");
        doc.Code($"./rlhf annotate serve --db {run}/annotations.db --comparisons {run}/eval/pairwise/comparisons.jsonl\n" +
                 $"./rlhf eval pairwise report --db {run}/annotations.db --out {run}/eval/human", "bash");
        doc.Paragraph("Rerun one stage (and the ones after it) from the demo's checkpoints, or run a stage on your own model and data:");
        doc.Code($"./rlhf demo --out {run} --from ppo\n" +
                 $"./rlhf ppo --policy {run}/sft --reward-model {run}/rm --prompts {run}/data/prompts.jsonl --out runs/my-ppo --max-steps 100\n" +
                 "./rlhf sft --model path/to/gpt2 --data ../shared/data/hh-rlhf/helpful-base/test.jsonl.gz --out runs/sft\n" +
                 "./rlhf reward --model runs/sft --data path/to/hh-rlhf/train.jsonl.gz --out runs/rm", "bash");
        return doc;
    }

    /// <summary>The full demo's quality bars with what this run measured.</summary>
    public static IReadOnlyList<(string Name, string Measured, bool Pass)> Bars(DemoResults r)
    {
        var p = r.Pairwise;
        double atLeast = (p.Wins + p.Ties) * 100.0 / Math.Max(1, p.Prompts);
        return
        [
            ("reward model held-out accuracy >= 90%", $"{r.RewardModel.HeldOutAccuracy:P1}", r.RewardModel.HeldOutAccuracy >= 0.9),
            ("RLHF at least as good on >= 90 of 100 prompts", $"{atLeast:F0} of 100", atLeast >= 90),
            ("RLHF wins >= 3x as often as it loses", $"{p.Wins} wins, {p.Losses} losses", p.Wins >= 3 * p.Losses),
            ("RLHF's mean toxicity below SFT's", $"{r.Toxicity.Difference:+0.000;-0.000} ({r.Toxicity.DifferenceLower:+0.000;-0.000} to {r.Toxicity.DifferenceUpper:+0.000;-0.000})", r.Toxicity.Difference < 0),
            ("reward rises over PPO", $"{r.Ppo.FirstReward:F2} -> {r.Ppo.LastReward:F2} (first and last {r.Ppo.Window} iterations)", r.Ppo.LastReward > r.Ppo.FirstReward),
            ("KL stays near its target (within 2x)", $"{r.Ppo.LastKl:F2} (target {r.Ppo.KlTarget:G3}; last {r.Ppo.Window} iterations)", r.Ppo.KlNearTarget),
        ];
    }

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
                    yield return [model.Model, name, $"{stats.Prompts}", Format(stats.MeanToxicity), Format(stats.ExpectedMaximumToxicity), Format(stats.ToxicityProbability)];

        static string Format(Estimate e) => $"{e.Value:F3} ({e.Lower:F3} to {e.Upper:F3})";
    }
}
