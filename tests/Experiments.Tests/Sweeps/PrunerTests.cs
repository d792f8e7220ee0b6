using Experiments.Sweeps;
using Experiments.Sweeps.Pruners;

namespace Experiments.Tests.Sweeps;

/// <summary>Pruning decisions on crafted intermediate values, each expected value worked out by hand from the rule.</summary>
[TestClass]
public sealed class PrunerTests
{
    private static readonly SweepObjective Minimise = new("loss");

    private static TrialResult Trial(int number, TrialStatus status, params (long Step, double Value)[] values) => new()
    {
        Number = number, Parameters = ParameterSet.Empty, Seed = 0, Status = status,
        Intermediate = values.Select(v => new IntermediateValue(v.Step, v.Value)).ToList(),
    };

    private static PruningContext Context(IReadOnlyList<TrialResult> reference, params (long Step, double Value)[] values) =>
        new(99, values.Select(v => new IntermediateValue(v.Step, v.Value)).ToList(), reference, Minimise);

    /// <summary>Five completed trials whose values at step 1 are 1 … 5 (median 3) and at step 2 are 0.5 … 2.5 (median 1.5).</summary>
    private static readonly IReadOnlyList<TrialResult> Five =
        Enumerable.Range(1, 5).Select(k => Trial(k, TrialStatus.Completed, (1, k), (2, k / 2.0))).ToList();

    [TestMethod]
    public void The_median_rule_prunes_a_trial_whose_best_is_worse_than_the_median()
    {
        var median = new MedianPruner();
        Assert.IsTrue(median.ShouldPrune(Context(Five, (1, 3.5))), "3.5 > median 3");
        Assert.IsFalse(median.ShouldPrune(Context(Five, (1, 2.5))));
        Assert.IsFalse(median.ShouldPrune(Context(Five, (1, 3.0))), "equal to the median is kept");
        // The trial's best so far counts, not its latest value: best 1.4 < 1.5 at step 2.
        Assert.IsFalse(median.ShouldPrune(Context(Five, (1, 1.4), (2, 1.6))));
        Assert.IsTrue(median.ShouldPrune(Context(Five, (1, 1.6), (2, 1.7))));
    }

    [TestMethod]
    public void The_median_rule_waits_for_start_up_trials_warm_up_steps_and_completed_trials()
    {
        Assert.IsFalse(new MedianPruner(startupTrials: 6).ShouldPrune(Context(Five, (1, 100))), "only 5 completed");
        Assert.IsFalse(new MedianPruner(warmupSteps: 2).ShouldPrune(Context(Five, (1, 100))), "step 1 is in the warm-up");
        Assert.IsTrue(new MedianPruner(warmupSteps: 2).ShouldPrune(Context(Five, (1, 100), (2, 100))));
        // Pruned trials are not among those the median is taken over.
        var pruned = Five.Select(t => t with { Status = TrialStatus.Pruned }).ToList();
        Assert.IsFalse(new MedianPruner(startupTrials: 1).ShouldPrune(Context(pruned, (1, 100))));
        // Fewer than min-trials completed trials reported at this step.
        Assert.IsFalse(new MedianPruner(minTrials: 6).ShouldPrune(Context(Five, (1, 100))));
    }

    [TestMethod]
    public void Checks_happen_once_per_interval()
    {
        // interval 2, warm-up 0: checkpoints at steps 0, 2, 4; a report at step 3 after one at 2 is not checked again.
        var pruner = new MedianPruner(startupTrials: 1, intervalSteps: 2);
        var reference = new[] { Trial(1, TrialStatus.Completed, (2, 1.0), (3, 1.0)) };
        Assert.IsTrue(pruner.ShouldPrune(Context(reference, (2, 5))));
        Assert.IsFalse(pruner.ShouldPrune(Context(reference, (2, 5), (3, 5))));
        Assert.IsTrue(pruner.ShouldPrune(Context(reference, (1, 5), (3, 5))), "the previous report (1) came before checkpoint 2");
    }

    [TestMethod]
    public void The_percentile_rule_interpolates_like_numpy()
    {
        // 25th percentile of 1 … 5 is 2: rank 0.25 × 4 = 1.
        Assert.IsTrue(new PercentilePruner(25).ShouldPrune(Context(Five, (1, 2.1))));
        Assert.IsFalse(new PercentilePruner(25).ShouldPrune(Context(Five, (1, 2.0))));
        // 10th percentile: rank 0.4 → 1 + 0.4 × (2 − 1) = 1.4.
        Assert.IsTrue(new PercentilePruner(10).ShouldPrune(Context(Five, (1, 1.41))));
        Assert.IsFalse(new PercentilePruner(10).ShouldPrune(Context(Five, (1, 1.39))));
    }

    [TestMethod]
    public void Maximised_objectives_are_compared_in_their_own_direction()
    {
        var maximise = new SweepObjective("auc", Direction.Maximize);
        // The pruner sees losses (−auc); the reference values are AUCs 1 … 5 at step 1, median 3.
        var keep = new PruningContext(9, [new IntermediateValue(1, -3.5)], Five, maximise);
        var drop = new PruningContext(9, [new IntermediateValue(1, -2.5)], Five, maximise);
        Assert.IsFalse(new MedianPruner().ShouldPrune(keep), "AUC 3.5 beats the median 3");
        Assert.IsTrue(new MedianPruner().ShouldPrune(drop));
    }

    [TestMethod]
    public void Asha_promotes_the_top_share_of_each_rung()
    {
        // min resource 1, η = 2: rungs at steps 1, 2, 4.
        var asha = new SuccessiveHalvingPruner(minResource: 1, reductionFactor: 2);
        var reference = new[]
        {
            Trial(0, TrialStatus.Completed, (1, 0.2), (2, 0.2), (4, 0.1)),
            Trial(1, TrialStatus.Pruned, (1, 0.5)),
            Trial(2, TrialStatus.Completed, (1, 0.3), (2, 0.25), (4, 0.2)),
        };
        // Rung 0 (step 1) holds 0.2, 0.5, 0.3 and the newcomer: 4 values, ⌊4/2⌋ = 2 promoted, so the newcomer must be ≤ the 2nd smallest.
        Assert.IsFalse(asha.ShouldPrune(Context(reference, (1, 0.25))), "0.2, 0.25 | 0.3, 0.5: promoted");
        Assert.IsTrue(asha.ShouldPrune(Context(reference, (1, 0.35))), "0.2, 0.3 | 0.35, 0.5: stopped");
        // At step 2 (rung 1): 0.2, 0.25 and the newcomer: 3 values, ⌊3/2⌋ = 1: only the best goes on.
        Assert.IsTrue(asha.ShouldPrune(Context(reference, (1, 0.25), (2, 0.22))));
        Assert.IsFalse(asha.ShouldPrune(Context(reference, (1, 0.25), (2, 0.19))));
        // Between rungs nothing is decided.
        Assert.IsFalse(asha.ShouldPrune(Context(reference, (1, 0.25), (2, 0.19), (3, 9.0))));
    }

    [TestMethod]
    public void Asha_keeps_the_best_while_a_rung_has_fewer_than_eta_values()
    {
        var asha = new SuccessiveHalvingPruner(minResource: 2, reductionFactor: 3);
        var reference = new[] { Trial(0, TrialStatus.Completed, (2, 0.4)) };
        // Rung 0 at step 2 has 0.4 and the newcomer: 2 < η, so only a value ≤ the smallest continues.
        Assert.IsFalse(asha.ShouldPrune(Context(reference, (1, 9.0))), "step 1 is before the first rung");
        Assert.IsFalse(asha.ShouldPrune(Context(reference, (2, 0.3))));
        Assert.IsTrue(asha.ShouldPrune(Context(reference, (2, 0.5))));
        // A report past several rungs is checked at each: step 6 passes rung 0 (step 2) and meets rung 1 (step 6), empty but for itself.
        Assert.IsFalse(asha.ShouldPrune(Context(reference, (6, 0.3))));
        // Without a minimum resource: the largest last step of completed trials / 100, at least 1.
        Assert.AreEqual(3, SuccessiveHalvingPruner.AutoMinResource([Trial(0, TrialStatus.Completed, (350, 1.0))]));
    }

    [TestMethod]
    public void Hyperband_has_brackets_with_optunas_budgets_and_compares_within_a_bracket()
    {
        // R = 27, r = 1, η = 3: ⌊log₃ 27⌋ + 1 = 4 brackets; budgets ⌈4·3^s/(s+1)⌉ for s = 3, 2, 1, 0: 27, 12, 6, 4.
        var hyperband = new HyperbandPruner(maxResource: 27, minResource: 1, reductionFactor: 3, seed: 1);
        Assert.AreEqual(4, hyperband.Brackets);
        CollectionAssert.AreEqual(new long[] { 27, 12, 6, 4 }, hyperband.Budgets.ToArray());
        var shares = Enumerable.Range(0, 4900).GroupBy(hyperband.BracketOf).ToDictionary(g => g.Key, g => g.Count() / 4900.0);
        Assert.AreEqual(27 / 49.0, shares[0], 0.03);
        Assert.AreEqual(4 / 49.0, shares[3], 0.03);
        // A trial in bracket 0 meets its first rung at step 1, and only trials of its bracket compete.
        var number = Enumerable.Range(0, 100).First(n => hyperband.BracketOf(n) == 0);
        var sameBracket = Enumerable.Range(100, 200).Where(n => hyperband.BracketOf(n) == 0).Take(3).ToList();
        var otherBracket = Enumerable.Range(100, 200).Where(n => hyperband.BracketOf(n) == 3).Take(6).ToList();
        var reference = sameBracket.Select(n => Trial(n, TrialStatus.Completed, (1, 0.1))).Concat(otherBracket.Select(n => Trial(n, TrialStatus.Completed, (1, 9.0)))).ToList();
        // Rung 0 of bracket 0: 0.1, 0.1, 0.1 and 0.5: ⌊4/3⌋ = 1 promoted, 0.5 is not the best.
        Assert.IsTrue(hyperband.ShouldPrune(new PruningContext(number, [new IntermediateValue(1, 0.5)], reference, Minimise)));
        Assert.IsFalse(hyperband.ShouldPrune(new PruningContext(number, [new IntermediateValue(1, 0.05)], reference, Minimise)));
    }

    [TestMethod]
    public void Per_choice_pruning_compares_a_trial_only_with_trials_of_its_own_model()
    {
        static TrialResult Of(int number, string model, double atStep2) =>
            Trial(number, TrialStatus.Completed, (2, atStep2)) with { Parameters = new ParameterSet([new("model", model)]) };
        // ALS reached 0.2 after 2 steps, BPR trials 0.8 and 0.9; a BPR trial at 0.7 is the best BPR at rung 0.
        var reference = new[] { Of(0, "als", 0.2), Of(1, "bpr", 0.8), Of(2, "bpr", 0.9) };
        var asha = new SuccessiveHalvingPruner(minResource: 2, reductionFactor: 3);
        var bpr = new PruningContext(3, [new IntermediateValue(2, 0.7)], reference, Minimise, new ParameterSet([new("model", "bpr")]));
        // Against every trial: 0.2, 0.7, 0.8, 0.9 → ⌊4/3⌋ = 1 promoted, only 0.2; the BPR trial would be stopped by ALS's value.
        Assert.IsTrue(asha.ShouldPrune(bpr));
        // Per model: 0.7, 0.8, 0.9 → 1 promoted, 0.7 is it.
        var perModel = new PerChoicePruner(asha, "model");
        Assert.IsFalse(perModel.ShouldPrune(bpr));
        Assert.IsTrue(perModel.ShouldPrune(bpr with { Values = [new IntermediateValue(2, 0.85)] }), "0.85 trails BPR's 0.8");
        // An ALS trial at 0.3 meets only ALS's 0.2 (2 values < η: only the best continues).
        Assert.IsTrue(perModel.ShouldPrune(bpr with { Parameters = new ParameterSet([new("model", "als")]), Values = [new IntermediateValue(2, 0.3)] }));
        // The median rule's start-up trials count per model: one ALS trial completed, startup 2 → no pruning of ALS.
        Assert.IsFalse(new PerChoicePruner(new MedianPruner(startupTrials: 2), "model").ShouldPrune(bpr with { Parameters = new ParameterSet([new("model", "als")]), Values = [new IntermediateValue(2, 5.0)] }));
        StringAssert.EndsWith(perModel.Description, " per model");
    }
}
