using Experiments.Core.Definitions;
using Experiments.Ctr;
using Experiments.Recommenders;
using Experiments.Runs;
using Experiments.Sweeps;

namespace Experiments.Tests.Sweeps;

/// <summary>The "sweep" block of definitions, its errors with JSON paths, and the catalogue of default spaces.</summary>
[TestClass]
public sealed class SweepDefinitionTests
{
    private static string Definition(string sweep, string models = """[ { "type": "bias" }, { "type": "matrix-factorization", "name": "mf" } ]""",
        string split = """{ "method": "random", "testFraction": 0.2, "validationFraction": 0.2 }""", string metrics = """["rmse", "mae"]""") => $$"""
        {
          "name": "s",
          "task": "rating",
          "dataset": { "name": "demo-shop", "table": "ratings" },
          "split": {{split}},
          "models": {{models}},
          "metrics": {{metrics}},
          "sweep": {{sweep}}
        }
        """;

    private static List<DefinitionError> Errors(string json) =>
        Assert.ThrowsExactly<DefinitionException>(() => Platform.Reader.Read(json, "bad.json")).Errors.ToList();

    private static DefinitionError At(List<DefinitionError> errors, string path) =>
        errors.SingleOrDefault(e => e.Path == path) ?? throw new AssertFailedException($"no error at {path}; errors: {string.Join(" | ", errors.Select(e => $"{e.Path}: {e.Message}"))}");

    [TestMethod]
    public void A_sweep_block_binds_and_keeps_its_canonical_form()
    {
        var definition = Platform.Reader.Read(Definition("""
            { "tuner": "tpe", "metric": "mae", "trials": 12, "wallTimeSeconds": 30, "trialTimeoutSeconds": 5, "parallelism": 1, "trialMemoryMb": 512, "seed": 9,
              "objective": "k-fold", "folds": 4, "defaultSpaces": false, "startupTrials": 4,
              "space": { "mf": { "rank": { "int": [2, 64], "log": true }, "solver": "sgd" } } }
            """), "s.json");
        var sweep = definition.Sweep!;
        Assert.AreEqual(("tpe", "mae", 12, 30.0, 5.0, 1, 512L, 9), (sweep.Tuner, sweep.Metric.ToString(), sweep.Trials, sweep.WallTimeSeconds, sweep.TrialTimeoutSeconds, sweep.Parallelism, sweep.TrialMemoryMegabytes, sweep.Seed));
        Assert.AreEqual((SweepSpec.KFold, 4, false, 4), (sweep.Objective, sweep.Folds, sweep.DefaultSpaces, sweep.StartupTrials));
        Assert.IsFalse(sweep.Maximizes(definition.Metrics), "mae is minimised");
        Assert.AreEqual("""{"rank":{"int":[2,64],"log":true},"solver":"sgd"}""", sweep.Spaces["mf"]);
        // The canonical JSON reads back to the same definition (the store keeps it; `--resume` reads the file again).
        var again = Platform.Reader.Read(DefinitionWriter.ToJson(definition), "canonical");
        Assert.AreEqual(DefinitionWriter.ToJson(definition), DefinitionWriter.ToJson(again));
        Assert.AreEqual(sweep with { Spaces = again.Sweep!.Spaces }, again.Sweep);
        Assert.AreEqual("rmse", Platform.Reader.Read(Definition("{}"), "s.json").Sweep!.MetricOf(definition.Metrics).ToString(), "default: the first metric");
    }

    [TestMethod]
    public void The_default_direction_minimises_errors_log_loss_and_popularity_and_maximises_the_rest()
    {
        foreach (var (metric, maximised) in new[] { ("rmse", false), ("mae", false), ("log-loss", false), ("popularity@10", false), ("ndcg@10", true), ("auc", true), ("coverage@10", true) })
            Assert.AreEqual(maximised, new SweepSpec().Maximizes([MetricName.Parse(metric)]), metric);
        Assert.IsTrue(new SweepSpec { Direction = SweepSpec.Maximize }.Maximizes([MetricName.Parse("rmse")]), "the block's direction wins");
    }

    [TestMethod]
    public void The_builder_makes_the_same_definition_as_the_file()
    {
        var file = Platform.Reader.Read(Definition("""{ "tuner": "cfo", "trials": 5, "space": { "mf": { "rank": { "int": [2, 64], "log": true } } } }"""), "s.json");
        var space = new SearchSpaceBuilder().Integer("rank", 2, 64, log: true).Build();
        var built = ExperimentBuilder.Create("s").ForTask("rating").OnDataset("demo-shop", d => d with { Table = "ratings" })
            .Split("random", 0.2, 0.2).AddModel("bias").AddModel("matrix-factorization", name: "mf").WithMetrics("rmse", "mae")
            .WithSweep(s => s with { Tuner = "cfo", Trials = 5, Spaces = new Dictionary<string, string> { ["mf"] = SpaceJson.Write(space) } })
            .Build(Platform.Vocabulary);
        Assert.AreEqual(DefinitionWriter.Hash(file), DefinitionWriter.Hash(built));
        Assert.ThrowsExactly<DefinitionException>(() => ExperimentBuilder.Create("s").ForTask("rating").OnDataset("demo-shop", d => d with { Table = "ratings" })
            .Split("random", 0.2).AddModel("bias").WithMetrics("rmse").WithSweep(s => s).Build(Platform.Vocabulary), "no validation part: the same check as a file's");
    }

    [TestMethod]
    public void Malformed_sweep_blocks_are_errors_at_their_json_paths()
    {
        var shape = Errors(Definition("""{ "tuner": "tpee", "trials": 0, "startupTrials": -1, "objective": "leave-one-out", "space": { "mf": [] } }"""));
        StringAssert.Contains(At(shape, "$.sweep.tuner").Message, "did you mean 'tpe'");
        StringAssert.Contains(At(shape, "$.sweep.trials").Message, "out of range");
        StringAssert.Contains(At(shape, "$.sweep.startupTrials").Message, "out of range");
        StringAssert.Contains(At(shape, "$.sweep.objective").Message, "k-fold");
        StringAssert.Contains(At(shape, "$.sweep.space.mf").Message, "object");
        var errors = Errors(Definition("""
            { "metric": "mae", "folds": 3, "objective": "validation",
              "space": {
                "mff": { "rank": { "int": [2, 64] } },
                "mf": {
                  "rnk": { "int": [2, 64] },
                  "lambda": { "float": [1, 0.1] },
                  "biasLambda": { "float": [0, 1], "log": true },
                  "solver": { "choice": [] },
                  "learningRate": { "float": [0.01, 1], "when": { "method": ["x"] } },
                  "iterations": { "int": [5, 5000] }
                },
                "bias": { "iterations": { "int": [1, 10] } }
              } }
            """, models: """[ { "type": "bias", "parameters": { "iterations": 3 } }, { "type": "matrix-factorization", "name": "mf" } ]""", metrics: """["rmse"]"""));
        StringAssert.Contains(At(errors, "$.sweep.metric").Message, "not among the definition's metrics");
        StringAssert.Contains(At(errors, "$.sweep.folds").Message, "belongs to objective 'k-fold'");
        var kFoldPruned = Errors(Definition("""{ "objective": "k-fold", "pruner": { "type": "median" } }"""));
        StringAssert.Contains(At(kFoldPruned, "$.sweep.pruner.type").Message, "pruner 'median' needs objective 'validation'");
        Assert.IsNotNull(Platform.Reader.Read(Definition("""{ "objective": "k-fold", "pruner": { "type": "none" } }"""), "ok.json").Sweep, "no pruner is fine under k-fold");
        StringAssert.Contains(At(errors, "$.sweep.space.mff").Message, "did you mean 'mf'");
        StringAssert.Contains(At(errors, "$.sweep.space.mf.rnk").Message, "did you mean 'rank'");
        StringAssert.Contains(At(errors, "$.sweep.space.mf.lambda.float").Message, "min");
        StringAssert.Contains(At(errors, "$.sweep.space.mf.biasLambda.log").Message, "positive");
        StringAssert.Contains(At(errors, "$.sweep.space.mf.solver.choice").Message, "at least one value");
        StringAssert.Contains(At(errors, "$.sweep.space.mf.learningRate.when").Message, "method");
        StringAssert.Contains(At(errors, "$.sweep.space.mf.iterations.int").Message, "1000");
        StringAssert.Contains(At(errors, "$.sweep.space.bias.iterations").Message, "fixed in models[0].parameters");
    }

    [TestMethod]
    public void A_sweep_needs_a_validation_part_or_k_folds_and_a_test_part()
    {
        var noValidation = Errors(Definition("{}", split: """{ "method": "random", "testFraction": 0.2 }"""));
        StringAssert.Contains(At(noValidation, "$.sweep").Message, "validationFraction");
        Assert.IsNotNull(Platform.Reader.Read(Definition("""{ "objective": "k-fold" }""", split: """{ "method": "random", "testFraction": 0.2 }"""), "s.json").Sweep);
        var kFold = Errors(Definition("""{ "objective": "k-fold" }""", split: """{ "method": "k-fold", "folds": 3 }"""));
        StringAssert.Contains(At(kFold, "$.split.method").Message, "test part");
        // Cold-start splits have no validation part of new items or users, and folds would not hold them out: one error, either objective.
        foreach (var objective in new[] { "{}", """{ "objective": "k-fold" }""" })
        {
            var cold = Errors(Definition(objective, split: """{ "method": "cold-start-items", "testFraction": 0.2 }"""));
            StringAssert.Contains(At(cold, "$.split.method").Message, "cannot tune on split 'cold-start-items'");
            Assert.HasCount(1, cold, string.Join("; ", cold.Select(e => e.Message)));
        }
        // A memory limit holds at any parallelism: each trial runs in a child process of its own.
        Assert.AreEqual((100L, 2), (Platform.Reader.Read(Definition("""{ "trialMemoryMb": 100, "parallelism": 2 }"""), "s.json").Sweep!.TrialMemoryMegabytes, Platform.Reader.Read(Definition("""{ "trialMemoryMb": 100, "parallelism": 2 }"""), "s.json").Sweep!.Parallelism));
    }

    [TestMethod]
    public void Every_model_kind_has_a_default_space_whose_start_point_lies_inside_it()
    {
        var models = Platform.Vocabulary.Models;
        CollectionAssert.AreEquivalent(models.Select(m => m.Type).ToList(), SweepSpaces.Types.ToList(), "one default per model type, none for a type that does not exist");
        foreach (var model in models)
        {
            var space = SweepSpaces.Default(model); // parsed against the model's parameters: names, kinds and ranges
            var start = space.StartPoint;
            foreach (var (name, value) in start)
            {
                var spec = model.Parameters.Single(p => p.Name == name);
                var parameter = space.Find(name)!;
                switch (parameter)
                {
                    case FloatParameter f:
                        Assert.IsTrue(f.Min <= (double)value && (double)value <= f.Max, $"{model.Type}.{name} = {value} outside [{f.Min}, {f.Max}]");
                        Assert.IsTrue(spec.Min <= f.Min && f.Max <= spec.Max, $"{model.Type}.{name}'s range is one the model accepts");
                        break;
                    case IntegerParameter i:
                        Assert.IsTrue(i.Min <= (long)value && (long)value <= i.Max, $"{model.Type}.{name} = {value} outside [{i.Min}, {i.Max}]");
                        Assert.IsTrue(spec.Min <= i.Min && i.Max <= spec.Max, $"{model.Type}.{name}'s range is one the model accepts");
                        break;
                    case ChoiceParameter c:
                        Assert.IsTrue(c.IndexOf(value) >= 0);
                        break;
                }
            }
            // The start point is a configuration the trainer accepts: its options are built from it.
            if (RecommenderCatalog.Models.Any(m => m.Type == model.Type)) Assert.IsNotNull(RecommenderCatalog.Create(model.Type, start, 1));
            if (CtrCatalog.Models.Any(m => m.Type == model.Type)) Assert.IsNotNull(CtrCatalog.Options(model.Type, start, 1));
            if (Experiments.Hybrid.HybridCatalog.IsTwoStage(model.Type)) Assert.IsNotNull(Experiments.Hybrid.HybridCatalog.Options(start, 1));
            if (start.ContainsKey("hiddenSize"))
            {
                // The encoder models (dense, hybrid, intent-encoder): the encoder and its training are built from the start.
                var encoder = Experiments.Text.EncoderCatalog.ModelOptions(start, 1000);
                var training = Experiments.Text.EncoderCatalog.TrainingOptions(start, 1);
                Assert.AreEqual((64, 1, 2), (encoder.HiddenSize, encoder.Layers, training.Epochs), $"{model.Type}: the smallest encoder, 2 epochs");
            }
            // Low-cost: every size parameter (rounds, epochs, trees, rank, neighbours, retrieval depth, ...) starts in
            // the cheaper half of its range (below the geometric middle of a log range, the arithmetic one otherwise).
            string[] sizes = ["iterations", "epochs", "trees", "rank", "neighbours", "depth", "layers", "hiddenSize", "samples", "burnIn", "cgSteps", "latentDimension"];
            foreach (var name in sizes.Where(start.ContainsKey))
            {
                var value = ParameterValue.ToDouble(start[name]);
                var (low, high, log) = space.Find(name) switch
                {
                    IntegerParameter i => ((double)i.Min, (double)i.Max, i.Log),
                    FloatParameter f => (f.Min, f.Max, f.Log),
                    ChoiceParameter c => (c.Values.Min(ParameterValue.ToDouble), c.Values.Max(ParameterValue.ToDouble), true),
                    _ => throw new AssertFailedException($"{model.Type}.{name}"),
                };
                var middle = log ? Math.Sqrt(low * high) : (low + high) / 2;
                Assert.IsTrue(value <= middle, $"{model.Type}.{name} starts at {value}, above the middle {middle:0.##} of [{low}, {high}]");
            }
        }
        // Low-cost: the iterative models start with few rounds and small ranks.
        var mf = SweepSpaces.Default(models.Single(m => m.Type == "matrix-factorization")).StartPoint;
        Assert.AreEqual((8L, 10L, "als"), (mf.Integer("rank"), mf.Integer("iterations"), mf.Text("solver")));
        Assert.IsFalse(mf.ContainsKey("learningRate"), "SGD's step size exists only under solver sgd");
        var lightgbm = SweepSpaces.Default(models.Single(m => m.Type == "lightgbm")).StartPoint;
        Assert.AreEqual((20L, 4L), (lightgbm.Integer("iterations"), lightgbm.Integer("leaves")));
    }

    [TestMethod]
    public void Parameters_a_fit_does_not_grow_with_start_at_the_models_defaults()
    {
        // FLAML's start: the cost-driving parameters at their low-cost end, the others at the library's defaults.
        var models = Platform.Vocabulary.Models;
        var mf = SweepSpaces.Default(models.Single(m => m.Type == "matrix-factorization"));
        // MatrixFactorizationOptions' λ = bias λ = 0.1 (chosen across three data sets, docs/benchmarks.md), not the bottom 0.001 of the range.
        Assert.AreEqual((0.1, 0.1), (mf.StartPoint.Number("lambda"), mf.StartPoint.Number("biasLambda")));
        Assert.AreEqual(0.01, ((FloatParameter)mf.Find("learningRate")!).StartValue, "SGD's step size, once SGD is chosen: the model's 0.01");
        Assert.AreEqual("als", mf.StartPoint.Text("solver"), "ALS (rank² per row) and SGD (rank) differ in work: the first choice, as before");
        var als = SweepSpaces.Default(models.Single(m => m.Type == "implicit-als")).StartPoint;
        Assert.AreEqual((10.0, 0.1, 3L), (als.Number("alpha"), als.Number("lambda"), als.Integer("cgSteps")), "α and λ at the model's defaults; CG steps at their low cost");
        var lightgbm = SweepSpaces.Default(models.Single(m => m.Type == "lightgbm")).StartPoint;
        Assert.AreEqual((0.05, 20L), (lightgbm.Number("learningRate"), lightgbm.Integer("minLeaf")), "the catalogue's learning rate and rows per leaf");

        // A definition's own range without a lowCost follows the same rule; an explicit lowCost is kept, a default outside the range moves to its nearest end.
        var descriptor = models.Single(m => m.Type == "matrix-factorization");
        var sweep = new SweepSpec { Spaces = new Dictionary<string, string> { ["mf"] = """
            { "lambda": { "float": [0.001, 1], "log": true }, "biasLambda": { "float": [0.2, 5] }, "rank": { "int": [4, 128], "log": true },
              "learningRate": { "float": [0.001, 0.1], "log": true, "lowCost": 0.05 } }
            """ } };
        var space = SweepSpaces.ForModel(new ModelSpec { Name = "mf", Type = "matrix-factorization", Parameters = new Dictionary<string, object> { ["solver"] = "sgd" } }, descriptor, sweep);
        var start = space.StartPoint;
        Assert.AreEqual(0.1, start.Number("lambda"), "the model's default inside the range");
        Assert.AreEqual(0.2, start.Number("biasLambda"), "0.1 lies below [0.2, 5]: its nearest value");
        Assert.AreEqual(4L, start.Integer("rank"), "the rank drives the work: its low end, not the default 32");
        Assert.AreEqual(0.05, start.Number("learningRate"), "an explicit lowCost wins");
    }

    [TestMethod]
    public void A_models_space_is_its_default_less_what_it_fixes_with_the_blocks_entries_over_it()
    {
        var descriptor = Platform.Vocabulary.Models.Single(m => m.Type == "matrix-factorization");
        ModelSpec Model(Dictionary<string, object> parameters) => new() { Name = "mf", Type = "matrix-factorization", Parameters = parameters };
        var sweep = new SweepSpec { Spaces = new Dictionary<string, string> { ["mf"] = """{ "rank": { "int": [16, 32] }, "nonNegative": { "choice": [false, true] } }""" } };
        var sgd = SweepSpaces.ForModel(Model(new() { ["solver"] = "sgd" }), descriptor, sweep);
        Assert.IsNull(sgd.Find("solver"), "fixed by the model entry");
        Assert.IsNull(sgd.Find("learningRate")!.When, "its condition holds once and for all");
        Assert.AreEqual((16L, 32L), (((IntegerParameter)sgd.Find("rank")!).Min, ((IntegerParameter)sgd.Find("rank")!).Max), "the block's range replaces the default's");
        Assert.IsNotNull(sgd.Find("nonNegative"), "the block extends the default");
        Assert.IsNotNull(sgd.Find("lambda"));
        var als = SweepSpaces.ForModel(Model(new() { ["solver"] = "als" }), descriptor, sweep);
        Assert.IsNull(als.Find("learningRate"), "SGD's step size does not exist under ALS");
        var only = SweepSpaces.ForModel(Model([]), descriptor, sweep with { DefaultSpaces = false });
        CollectionAssert.AreEqual(new[] { "rank", "nonNegative" }, only.Parameters.Select(p => p.Name).ToArray());
    }

    [TestMethod]
    public void A_zero_shot_sweep_tries_the_kinds_portfolio_moved_into_its_space()
    {
        var definition = Platform.Reader.ReadFile(Path.Combine(CliProcess.RepositoryRoot, "experiments", "benchmarks", "sweep-tuners-criteo-lightgbm.json"));
        Assert.IsFalse(definition.Sweep!.ZeroShot, "off unless asked for");
        Assert.IsFalse(DefinitionWriter.ToJson(definition).Contains("zeroShot", StringComparison.Ordinal), "the canonical form of a definition without it is unchanged");
        Assert.IsFalse(DefinitionWriter.ToJson(definition).Contains("startupTrials", StringComparison.Ordinal), "nor without start-up trials");
        var zeroShot = Platform.Reader.Read(DefinitionWriter.ToJson(definition with { Sweep = definition.Sweep with { ZeroShot = true } }), "canonical");
        Assert.IsTrue(zeroShot.Sweep!.ZeroShot, "written and read back");

        // The space: rounds 10–300 and leaves 4–64 (the file's), minLeaf, rate and the featuriser's choices (the default's); hashBits fixed at 0.
        var space = SweepSpaces.For(definition, Platform.Vocabulary.Models);
        var portfolio = SweepSpaces.PortfolioOf(definition, space);
        ParameterSet Entry(long rounds, long leaves, long minLeaf, double rate) => space.Complete(
            new Dictionary<string, object> { ["iterations"] = rounds, ["leaves"] = leaves, ["minLeaf"] = minLeaf, ["learningRate"] = rate }, "expected");
        // LightGBM's defaults, then FLAML's configuration with its 139 leaves clamped to the space's 64; the rest at their start values.
        CollectionAssert.AreEqual(new[] { Entry(100, 31, 20, 0.1), Entry(141, 64, 8, 0.048) }, portfolio.ToArray());
        Assert.AreEqual((3L, true), (((ParameterSet)portfolio[0]).Integer("minCategoryCount"), (bool)portfolio[0]["logTransform"]));

        var mf = Platform.Reader.Read(Definition("{}", models: """[ { "type": "matrix-factorization", "name": "mf" } ]"""), "s.json");
        Assert.AreEqual(0, SweepSpaces.PortfolioOf(mf, SweepSpaces.For(mf, Platform.Vocabulary.Models)).Count, "a kind without a portfolio");
        var two = Platform.Reader.Read(Definition("{}"), "s.json");
        Assert.AreEqual(0, SweepSpaces.PortfolioOf(two, SweepSpaces.For(two, Platform.Vocabulary.Models)).Count, "several models: none");
    }

    [TestMethod]
    public void Several_models_are_a_choice_whose_branches_hold_each_models_space()
    {
        var definition = Platform.Reader.Read(Definition("""{ "space": { "mf": { "rank": { "int": [2, 8] } } } }""",
            models: """[ { "type": "bias", "parameters": { "iterations": 3 } }, { "type": "matrix-factorization", "name": "mf", "parameters": { "solver": "sgd" } } ]"""), "s.json");
        var space = SweepSpaces.For(definition, Platform.Vocabulary.Models);
        CollectionAssert.AreEqual(new object[] { "bias", "mf" }, ((ChoiceParameter)space.Find("model")!).Values.ToArray());
        Assert.AreEqual(new Condition("model", ["mf"]).ToString(), space.Find("model.mf.rank")!.When!.ToString());
        Assert.IsNull(space.Find("model.bias.iterations"), "fixed");
        var trial = space.Complete(new Dictionary<string, object> { ["model"] = "mf", ["model.mf.rank"] = 4L }, "a trial");
        var model = SweepSpaces.ModelOf(definition, trial);
        Assert.AreEqual("mf", model.Name);
        Assert.AreEqual((4L, "sgd"), ((long)model.Parameters["rank"], (string)model.Parameters["solver"]), "the trial's values and the entry's fixed ones");
        Assert.IsFalse(model.Parameters.Keys.Any(k => k.StartsWith("model.", StringComparison.Ordinal)));
    }
}
