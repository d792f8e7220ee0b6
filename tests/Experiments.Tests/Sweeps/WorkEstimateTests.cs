using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Runs;

namespace Experiments.Tests.Sweeps;

/// <summary>SweepSpaces.WorkOf: the deterministic cost of an experiment sweep's trial (training rows × what scales a fit).</summary>
[TestClass]
public sealed class WorkEstimateTests
{
    private static ModelSpec Model(string type, Dictionary<string, object>? parameters = null) => new() { Name = type, Type = type, Parameters = parameters ?? [] };

    [TestMethod]
    public void The_work_is_rows_times_the_parameters_that_scale_a_fit_with_catalogue_defaults_for_the_rest()
    {
        // ALS: rank² per row per iteration — 1,000 rows × 8 × 8 × 10 iterations.
        Assert.AreEqual(640_000.0, SweepSpaces.WorkOf(Model("matrix-factorization", new() { ["rank"] = 8L, ["iterations"] = 10L, ["solver"] = "als" }), 1000));
        // SGD: rank per row; rank 32 and 15 iterations are the catalogue's defaults — 500 × 32 × 15.
        Assert.AreEqual(240_000.0, SweepSpaces.WorkOf(Model("matrix-factorization", new() { ["solver"] = "sgd" }), 500));
        // Gibbs sampling: rank² per row per sweep, burn-in 20 + 60 samples by default — 100 × 4 × 4 × 80.
        Assert.AreEqual(128_000.0, SweepSpaces.WorkOf(Model("bayesian-mf", new() { ["rank"] = 4L }), 100));
        // Histogram boosting: rounds only, leaves do not count — 2,000 × 50.
        Assert.AreEqual(100_000.0, SweepSpaces.WorkOf(Model("lightgbm", new() { ["iterations"] = 50L, ["leaves"] = 255L }), 2000));
        // An encoder at its defaults: hidden 128 × 2 layers × 4 epochs × 4 positives per query, for 10 queries.
        Assert.AreEqual(40_960.0, SweepSpaces.WorkOf(Model("dense"), 10));
        // Nothing to scale: the rows themselves.
        Assert.AreEqual(700.0, SweepSpaces.WorkOf(Model("logistic-regression", new() { ["l2"] = 3.0 }), 700));
        // EASE: items² whatever the rows (1,000 items → 10⁶; capped at its 200 most popular → 40,000); without items, the rows.
        Assert.AreEqual(1_000_000.0, SweepSpaces.WorkOf(Model("ease", new() { ["lambda"] = 500.0 }), 50_000, 1000), 1e-6);
        Assert.AreEqual(40_000.0, SweepSpaces.WorkOf(Model("ease", new() { ["maxItems"] = 200L }), 50_000, 1000), 1e-6);
        Assert.AreEqual(300.0, SweepSpaces.WorkOf(Model("ease"), 300));
    }

    [TestMethod]
    public void Every_model_kind_has_a_finite_positive_work_at_its_default_start_point()
    {
        foreach (var descriptor in Platform.Vocabulary.Models)
        {
            Assert.Contains(descriptor.Type, SweepSpaces.Types, $"'{descriptor.Type}' has a default space");
            var start = SweepSpaces.Default(descriptor).StartPoint.ToDictionary(p => p.Key, p => p.Value);
            var work = SweepSpaces.WorkOf(Model(descriptor.Type, start), 100);
            Assert.IsTrue(double.IsFinite(work) && work >= 100, $"{descriptor.Type}: work {work} at {string.Join(", ", start)}");
        }
    }

    [TestMethod]
    public void An_unknown_model_type_has_no_work_estimate()
    {
        var e = Assert.ThrowsExactly<ExperimentsException>(() => SweepSpaces.WorkOf(Model("no-such-model"), 10));
        StringAssert.Contains(e.Message, "'no-such-model'");
        StringAssert.Contains(e.Message, "matrix-factorization", "the message lists the known types");
    }
}
