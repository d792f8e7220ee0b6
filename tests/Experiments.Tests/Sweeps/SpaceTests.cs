using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Sweeps;
using Experiments.Sweeps.Tuners;

namespace Experiments.Tests.Sweeps;

[TestClass]
public sealed class SpaceTests
{
    private const string Full = """
        {
          "learningRate": { "float": [0.001, 0.3], "log": true, "lowCost": 0.1 },
          "leaves": { "int": [4, 256], "log": true },
          "rounds": { "int": [10, 100], "step": 10 },
          "fraction": { "float": [0, 1], "step": 0.25 },
          "loss": { "choice": ["squared", "logistic"] },
          "trainer": { "choice": { "lightgbm": { "depth": { "int": [1, 8] } }, "linear": {} } },
          "l2": { "float": [1e-6, 1], "log": true, "when": { "trainer": "linear" } },
          "seed": 42
        }
        """;

    [TestMethod]
    public void Json_declares_every_kind_with_conditions_and_nested_names()
    {
        var space = SpaceJson.Parse(Full, "space.json");
        Assert.AreEqual(new FloatParameter("learningRate", 0.001, 0.3) { Log = true, LowCost = 0.1 }, space.Find("learningRate"));
        Assert.AreEqual(new IntegerParameter("leaves", 4, 256) { Log = true }, space.Find("leaves"));
        Assert.AreEqual(10L, ((IntegerParameter)space.Find("rounds")!).Step);
        Assert.AreEqual(0.25, ((FloatParameter)space.Find("fraction")!).Step);
        CollectionAssert.AreEqual(new object[] { "squared", "logistic" }, ((ChoiceParameter)space.Find("loss")!).Values.ToArray());
        var depth = space.Find("trainer.lightgbm.depth")!;
        Assert.AreEqual("trainer", depth.When!.Parameter);
        CollectionAssert.AreEqual(new object[] { "lightgbm" }, depth.When.Values.ToArray());
        CollectionAssert.AreEqual(new object[] { "linear" }, space.Find("l2")!.When!.Values.ToArray());
        Assert.AreEqual(new FixedParameter("seed", 42L), space.Find("seed"));
        // The choice comes before the parameters its values govern.
        var names = space.Parameters.Select(p => p.Name).ToList();
        Assert.IsTrue(names.IndexOf("trainer") < names.IndexOf("trainer.lightgbm.depth"));
        Assert.IsTrue(names.IndexOf("trainer") < names.IndexOf("l2"));
    }

    [TestMethod]
    public void The_start_point_takes_low_cost_values_else_the_cheap_end()
    {
        var start = SpaceJson.Parse(Full, "space.json").StartPoint;
        Assert.AreEqual(0.1, start["learningRate"]);
        Assert.AreEqual(4L, start["leaves"]);
        Assert.AreEqual(10L, start["rounds"]);
        Assert.AreEqual("squared", start["loss"]);
        Assert.AreEqual("lightgbm", start["trainer"]);
        Assert.AreEqual(1L, start["trainer.lightgbm.depth"]);
        Assert.IsFalse(start.ContainsKey("l2"), "l2 exists only for the linear trainer");
        Assert.AreEqual(42L, start["seed"]);
    }

    [TestMethod]
    public void Writing_and_reading_back_gives_the_same_space()
    {
        var space = SpaceJson.Parse(Full, "space.json");
        var again = SpaceJson.Parse(SpaceJson.Write(space), "written");
        Assert.AreEqual(SpaceJson.Write(space), SpaceJson.Write(again));
        CollectionAssert.AreEqual(space.Parameters.Select(p => p.Name).ToList(), again.Parameters.Select(p => p.Name).ToList());
    }

    private static DefinitionError Single(string json, SpaceCatalog? catalog = null)
    {
        var e = Assert.ThrowsExactly<DefinitionException>(() => SpaceJson.Parse(json, "bad.json", catalog));
        Assert.AreEqual(1, e.Errors.Count, string.Join("\n", e.Errors));
        StringAssert.Contains(e.Message, "bad.json");
        return e.Errors[0];
    }

    [TestMethod]
    public void An_empty_range_is_an_error_at_its_json_path()
    {
        var error = Single("""{ "a": { "float": [0.5, 0.5] } }""");
        Assert.AreEqual("$.a.float", error.Path);
        Assert.AreEqual((1, 19), (error.Line, error.Column));
        StringAssert.Contains(error.Message, "empty");
    }

    [TestMethod]
    public void Min_above_max_is_an_error()
    {
        var error = Single("{\n  \"n\": { \"int\": [10, 2] }\n}");
        Assert.AreEqual("$.n.int", error.Path);
        Assert.AreEqual(2, error.Line);
        Assert.AreEqual("min 10 is greater than max 2", error.Message);
    }

    [TestMethod]
    public void A_log_scale_over_a_non_positive_bound_is_an_error_at_log()
    {
        var error = Single("""{ "lr": { "float": [0, 1], "log": true } }""");
        Assert.AreEqual("$.lr.log", error.Path);
        StringAssert.Contains(error.Message, "positive bounds");
    }

    [TestMethod]
    public void A_choice_with_no_values_is_an_error()
    {
        var error = Single("""{ "c": { "choice": [] } }""");
        Assert.AreEqual("$.c.choice", error.Path);
        StringAssert.Contains(error.Message, "at least one value");
    }

    [TestMethod]
    public void A_condition_on_a_parameter_that_does_not_exist_is_an_error_with_a_suggestion()
    {
        var error = Single("""{ "solver": { "choice": ["als", "sgd"] }, "rate": { "float": [0.01, 1], "when": { "solvr": "sgd" } } }""");
        Assert.AreEqual("$.rate.when", error.Path);
        StringAssert.Contains(error.Message, "'solvr', which is not a parameter");
        StringAssert.Contains(error.Message, "did you mean 'solver'?");
    }

    [TestMethod]
    public void A_condition_on_a_value_the_choice_lacks_is_an_error()
    {
        var error = Single("""{ "solver": { "choice": ["als", "sgd"] }, "rate": { "float": [0.01, 1], "when": { "solver": "adam" } } }""");
        Assert.AreEqual("$.rate.when", error.Path);
        StringAssert.Contains(error.Message, "\"adam\" is not a value of 'solver'");
    }

    [TestMethod]
    public void A_low_cost_value_outside_the_range_is_an_error()
    {
        var error = Single("""{ "rate": { "float": [0.01, 1], "lowCost": 2 } }""");
        Assert.AreEqual("$.rate.lowCost", error.Path);
        StringAssert.Contains(error.Message, "outside the range [0.01, 1]");
        Assert.AreEqual("$.c.lowCost", Single("""{ "c": { "choice": ["a", "b"], "lowCost": "z" } }""").Path);
    }

    [TestMethod]
    public void Unknown_parameters_of_a_model_are_errors_with_did_you_mean()
    {
        var catalog = new SpaceCatalog("item-knn", [
            new ParameterSpec("neighbours", ParameterKind.Integer, 50, "", 1, 100_000),
            new ParameterSpec("shrinkage", ParameterKind.Number, 10.0, "", 0, 10_000)]);
        var error = Single("""{ "neighbors": { "int": [10, 200] } }""", catalog);
        Assert.AreEqual("$.neighbors", error.Path);
        StringAssert.Contains(error.Message, "did you mean 'neighbours'?");
        StringAssert.Contains(error.Message, "allowed: neighbours, shrinkage");
        // Kinds and ranges are the model's too.
        StringAssert.Contains(Single("""{ "neighbours": { "float": [10, 200] } }""", catalog).Message, "takes an integer");
        StringAssert.Contains(Single("""{ "shrinkage": { "float": [-1, 5] } }""", catalog).Message, "outside what 'shrinkage' accepts");
    }

    [TestMethod]
    public void A_trainer_choice_checks_each_sub_space_against_that_trainers_parameters()
    {
        var catalog = new SpaceCatalog("ctr pipeline", [])
        {
            Branches = new Dictionary<string, IReadOnlyDictionary<string, SpaceCatalog>>
            {
                ["trainer"] = new Dictionary<string, SpaceCatalog>
                {
                    ["lightgbm"] = new("lightgbm", [new ParameterSpec("leaves", ParameterKind.Integer, 31, "", 2, 1024)]),
                    ["ffm"] = new("ffm", [new ParameterSpec("latentDimension", ParameterKind.Integer, 8, "", 1, 256)]),
                },
            },
        };
        SpaceJson.Parse("""{ "trainer": { "choice": { "lightgbm": { "leaves": { "int": [4, 64] } }, "ffm": {} } } }""", "ok.json", catalog);
        var error = Single("""{ "trainer": { "choice": { "lightgbm": { "latentDimension": { "int": [4, 64] } } } } }""", catalog);
        Assert.AreEqual("$.trainer.choice.lightgbm.latentDimension", error.Path);
        StringAssert.Contains(error.Message, "for lightgbm");
        Assert.AreEqual("$.trainer.choice.xgboost", Single("""{ "trainer": { "choice": { "xgboost": {} } } }""", catalog).Path);
    }

    [TestMethod]
    public void Every_problem_is_reported_at_once()
    {
        var e = Assert.ThrowsExactly<DefinitionException>(() => SpaceJson.Parse("""{ "a": { "float": [2, 1] }, "b": { "int": [1.5, 3] }, "c": { "range": [1, 2] } }""", "bad.json"));
        CollectionAssert.AreEquivalent(new[] { "$.a.float", "$.b.int[0]", "$.c.range", "$.c" }, e.Errors.Select(x => x.Path).ToList(), string.Join("\n", e.Errors));
    }

    [TestMethod]
    public void The_builder_runs_the_same_checks()
    {
        var e = Assert.ThrowsExactly<SearchSpaceException>(() => new SearchSpaceBuilder()
            .Float("lr", 0, 1, log: true)
            .Integer("n", 5, 1)
            .Choice("c", Array.Empty<object>())
            .Float("x", 0, 1, when: new Condition("missing", ["a"]))
            .Build());
        CollectionAssert.AreEquivalent(new[] { "lr (log)", "n (range)", "c (values)", "x (when)" }, e.Problems.Select(p => $"{p.Parameter} ({p.Field})").ToList());
    }

    [TestMethod]
    public void The_builder_nests_sub_spaces_like_json()
    {
        var built = new SearchSpaceBuilder()
            .Float("learningRate", 0.001, 0.3, log: true, lowCost: 0.1)
            .Integer("leaves", 4, 256, log: true)
            .Integer("rounds", 10, 100, step: 10)
            .Float("fraction", 0, 1, step: 0.25)
            .Choice("loss", "squared", "logistic")
            .Choice("trainer", c => c.Option("lightgbm", s => s.Integer("depth", 1, 8)).Option("linear"))
            .Float("l2", 1e-6, 1, log: true, when: new Condition("trainer", ["linear"]))
            .Fixed("seed", 42)
            .Build();
        Assert.AreEqual(SpaceJson.Write(SpaceJson.Parse(Full, "space.json")), SpaceJson.Write(built));
    }

    private sealed record ExampleOptions
    {
        [SearchRange(0.001, 0.3, Log = true, LowCost = 0.1)] public double LearningRate { get; init; } = 0.05;
        [SearchRange(4, 256, Log = true)] public int Leaves { get; init; } = 31;
        [SearchChoice("gbdt", "dart")] public string Boosting { get; init; } = "gbdt";
        [SearchRange(0, 1), SearchWhen(nameof(Boosting), "dart")] public double DropRate { get; init; } = 0.1;
        [SearchChoice] public bool Balanced { get; init; }
        public int Threads { get; init; } = 4;
    }

    [TestMethod]
    public void Attributes_on_an_options_record_declare_a_space_and_bind_back()
    {
        var space = OptionsSpace.For<ExampleOptions>();
        Assert.AreEqual(new FloatParameter("learningRate", 0.001, 0.3) { Log = true, LowCost = 0.1 }, space.Find("learningRate"));
        Assert.AreEqual(new IntegerParameter("leaves", 4, 256) { Log = true }, space.Find("leaves"));
        Assert.AreEqual("boosting", space.Find("dropRate")!.When!.Parameter);
        CollectionAssert.AreEqual(new object[] { false, true }, ((ChoiceParameter)space.Find("balanced")!).Values.ToArray());
        Assert.IsNull(space.Find("threads"));
        var options = OptionsSpace.Bind(space.Complete(new Dictionary<string, object> { ["leaves"] = 64L, ["boosting"] = "dart", ["dropRate"] = 0.3 }, "test"),
            new ExampleOptions { Threads = 8 });
        Assert.AreEqual(new ExampleOptions { LearningRate = 0.1, Leaves = 64, Boosting = "dart", DropRate = 0.3, Balanced = false, Threads = 8 }, options);
    }

    [TestMethod]
    public void Nearest_moves_a_point_into_the_space()
    {
        var space = new SearchSpaceBuilder()
            .Float("rate", 0, 1, step: 0.25).Integer("leaves", 4, 64, log: true, lowCost: 8).Choice("kind", "a", "b")
            .Fixed("bits", 0L).Integer("rounds", 10, 20, step: 5)
            .Build();
        var given = new Dictionary<string, object> { ["rate"] = 0.6, ["leaves"] = 139L, ["kind"] = "z", ["bits"] = 16L, ["rounds"] = 13L, ["unknown"] = 1 };
        // 0.6 → nearest multiple of 0.25: 0.5; 139 leaves → the bound 64; "z" is no choice → its start "a"; the fixed
        // value stays; 13 → nearest step of 5 from 10: 15; unknown names are dropped.
        Assert.AreEqual(new ParameterSet([new("rate", 0.5), new("leaves", 64L), new("kind", "a"), new("bits", 0L), new("rounds", 15L)]), space.Nearest(given));
        Assert.AreEqual(new ParameterSet([new("rate", 0.0), new("leaves", 4L), new("kind", "b"), new("bits", 0L), new("rounds", 10L)]),
            space.Nearest(new Dictionary<string, object> { ["rate"] = -3.0, ["leaves"] = 2L, ["kind"] = "b", ["rounds"] = 10L }), "below the range: the lower bound");
        Assert.AreEqual(space.StartPoint, space.Nearest(new Dictionary<string, object>()), "nothing given: the start point");
    }

    [TestMethod]
    public void Complete_rejects_unknown_inactive_and_out_of_range_values()
    {
        var space = SpaceJson.Parse(Full, "space.json");
        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => space.Complete(new Dictionary<string, object> { ["leafs"] = 8L }, "entry")).Message, "did you mean 'leaves'?");
        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => space.Complete(new Dictionary<string, object> { ["l2"] = 0.1 }, "entry")).Message, "exists only when trainer in [\"linear\"]");
        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => space.Complete(new Dictionary<string, object> { ["rounds"] = 15L }, "entry")).Message, "not a value of 'rounds'");
    }

    [TestMethod]
    public void Encoding_and_decoding_keep_every_discrete_value()
    {
        var space = SpaceJson.Parse(Full, "space.json");
        var encoding = space.Encoding;
        foreach (var d in encoding.Dimensions.Where(d => d.Kind != DimensionKind.Continuous))
            for (var k = 0; k < d.Levels; k++)
            {
                var value = d.Decode((k + 0.5) / d.Levels);
                Assert.AreEqual(value, d.Decode(d.Encode(value)), $"{d.Parameter.Name} = {value}");
                Assert.IsNotNull(SearchSpace.Canonical(d.Parameter, value), $"{d.Parameter.Name} = {value} must be in the space");
            }
        // Every integer of a log scale keeps its own cell.
        var leaves = encoding.DimensionOf["leaves"];
        var seen = Enumerable.Range(4, 253).Select(v => leaves.Decode(leaves.Encode((long)v))).ToList();
        CollectionAssert.AreEqual(Enumerable.Range(4, 253).Select(v => (object)(long)v).ToList(), seen);
        // Stepped reals land exactly on the grid.
        CollectionAssert.AreEqual(new object[] { 0.0, 0.25, 0.5, 0.75, 1.0 }, Enumerable.Range(0, 5).Select(k => encoding.DimensionOf["fraction"].Decode((k + 0.5) / 5)).ToArray());
    }

    [TestMethod]
    public void Fixing_a_choice_drops_the_parameters_of_its_other_values()
    {
        var linear = SpaceJson.Parse(Full, "space.json").Fix("trainer", "linear");
        Assert.AreEqual(new FixedParameter("trainer", "linear"), linear.Find("trainer"));
        Assert.IsNull(linear.Find("trainer.lightgbm.depth"));
        Assert.IsNotNull(linear.Find("l2"));
        Assert.IsTrue(linear.StartPoint.ContainsKey("l2"));
    }
}
