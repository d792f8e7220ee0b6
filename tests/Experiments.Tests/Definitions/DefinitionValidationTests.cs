using Experiments.Core.Definitions;
using Experiments.Runs;

namespace Experiments.Tests.Definitions;

[TestClass]
public sealed class DefinitionValidationTests
{
    private const string Valid = """
        {
          "name": "t",
          "task": "ranking",
          "dataset": { "name": "demo-shop" },
          "split": { "method": "stratified", "testFraction": 0.2 },
          "models": [ { "type": "most-popular" }, { "type": "item-knn", "parameters": { "neighbours": 20 } } ],
          "metrics": ["ndcg@10", "hit-rate@5"],
          "seed": 3
        }
        """;

    private static DefinitionException Invalid(string json)
    {
        var e = Assert.ThrowsExactly<DefinitionException>(() => Platform.Reader.Read(json, "bad.json"));
        Assert.IsTrue(e.Message.StartsWith("bad.json is not a valid experiment definition"), e.Message);
        return e;
    }

    private static DefinitionError Single(string json)
    {
        var e = Invalid(json);
        Assert.HasCount(1, e.Errors, e.Message);
        return e.Errors[0];
    }

    [TestMethod]
    public void A_valid_definition_binds_every_field()
    {
        var d = Platform.Reader.Read(Valid, "ok.json");
        Assert.AreEqual("t", d.Name);
        Assert.AreEqual("ranking", d.Task);
        Assert.AreEqual("demo-shop", d.Dataset.Name);
        Assert.AreEqual(0.2, d.Split.TestFraction);
        Assert.AreEqual(2, d.Models.Count);
        Assert.AreEqual(20L, d.Models[1].Parameters["neighbours"]);
        Assert.AreEqual(new MetricName("hit-rate", 5), d.Metrics[1]);
        Assert.AreEqual(3, d.Seed);
    }

    [TestMethod]
    public void Syntax_error_names_line_and_column()
    {
        var error = Single("{\n  \"name\": \"t\",\n  \"task\" \"ranking\"\n}");
        Assert.AreEqual(3, error.Line);
        Assert.Contains("invalid JSON", error.Message);
    }

    [TestMethod]
    public void Empty_file_is_reported() => StringAssert.Contains(Single("").Message, "empty");

    [TestMethod]
    public void Unknown_property_suggests_the_close_one_and_lists_allowed()
    {
        var error = Single(Valid.Replace("\"seed\": 3", "\"sede\": 3"));
        Assert.AreEqual("$.sede", error.Path);
        Assert.AreEqual(8, error.Line);
        Assert.AreEqual(3, error.Column);
        StringAssert.Contains(error.Message, "did you mean 'seed'?");
        StringAssert.Contains(error.Message, "allowed: $schema, name, description, task, dataset");
    }

    [TestMethod]
    public void Wrong_type_says_what_was_expected_and_found()
    {
        var error = Single(Valid.Replace("\"seed\": 3", "\"seed\": \"3\""));
        Assert.AreEqual("$.seed", error.Path);
        Assert.AreEqual("expected an integer, got string (\"3\")", error.Message);
    }

    [TestMethod]
    public void Fraction_where_an_integer_is_needed()
    {
        var error = Single(Valid.Replace("\"neighbours\": 20", "\"neighbours\": 2.5"));
        Assert.AreEqual("$.models[1].parameters.neighbours", error.Path);
        StringAssert.Contains(error.Message, "expected an integer, got number (2.5)");
    }

    [TestMethod]
    public void Out_of_range_value_gives_the_range()
    {
        var error = Single(Valid.Replace("\"testFraction\": 0.2", "\"testFraction\": 1.5"));
        Assert.AreEqual("$.split.testFraction", error.Path);
        Assert.AreEqual("1.5 is out of range: must be greater than 0 and less than 1", error.Message);
    }

    [TestMethod]
    public void Unknown_dataset_lists_the_registered_ones()
    {
        var error = Single(Valid.Replace("\"demo-shop\"", "\"movielens-small\""));
        Assert.AreEqual("$.dataset.name", error.Path);
        StringAssert.Contains(error.Message, "unknown name 'movielens-small'");
        StringAssert.Contains(error.Message, "movielens-latest-small");
        StringAssert.Contains(error.Message, "criteo-samples");
    }

    [TestMethod]
    public void Unknown_model_type_lists_the_models()
    {
        var error = Single(Valid.Replace("\"most-popular\"", "\"most-populr\""));
        Assert.AreEqual("$.models[0].type", error.Path);
        StringAssert.Contains(error.Message, "did you mean 'most-popular'?");
        StringAssert.Contains(error.Message, "item-knn");
    }

    [TestMethod]
    public void Unknown_model_parameter_suggests_the_right_spelling()
    {
        var error = Single(Valid.Replace("\"neighbours\": 20", "\"neighbors\": 20"));
        Assert.AreEqual("$.models[1].parameters.neighbors", error.Path);
        StringAssert.Contains(error.Message, "did you mean 'neighbours'?");
        StringAssert.Contains(error.Message, "allowed: neighbours, shrinkage");
    }

    [TestMethod]
    public void Unknown_metric_lists_metrics()
    {
        var error = Single(Valid.Replace("\"ndcg@10\"", "\"ndgc@10\""));
        Assert.AreEqual("$.metrics[0]", error.Path);
        StringAssert.Contains(error.Message, "did you mean 'ndcg@K'?");
    }

    [TestMethod]
    public void Cut_off_metric_without_K() =>
        StringAssert.Contains(Single(Valid.Replace("\"ndcg@10\"", "\"ndcg\"")).Message, "needs a cut-off K, written as 'ndcg@10'");

    [TestMethod]
    public void Zero_cut_off_is_rejected() =>
        StringAssert.Contains(Single(Valid.Replace("\"ndcg@10\"", "\"ndcg@0\"")).Message, "between 1 and 10000");

    [TestMethod]
    public void Model_that_cannot_do_the_task()
    {
        var error = Single(Valid.Replace("\"most-popular\"", "\"global-mean\""));
        StringAssert.Contains(error.Message, "model 'global-mean' cannot do task 'ranking'; it does: rating");
    }

    [TestMethod]
    public void Metric_that_does_not_fit_the_task()
    {
        var error = Single(Valid.Replace("\"hit-rate@5\"", "\"rmse\""));
        Assert.AreEqual("$.metrics[1]", error.Path);
        StringAssert.Contains(error.Message, "metric 'rmse' does not apply to task 'ranking'");
    }

    [TestMethod]
    public void Two_models_with_one_name()
    {
        var error = Single(Valid.Replace("{ \"type\": \"item-knn\",", "{ \"type\": \"item-knn\", \"name\": \"most-popular\","));
        StringAssert.Contains(error.Message, "two models are named 'most-popular'");
    }

    [TestMethod]
    public void Missing_required_property()
    {
        var error = Single(Valid.Replace("\"task\": \"ranking\",", ""));
        Assert.AreEqual("$", error.Path);
        StringAssert.Contains(error.Message, "missing required property 'task'");
    }

    [TestMethod]
    public void Property_given_twice() =>
        StringAssert.Contains(Single(Valid.Replace("\"seed\": 3", "\"seed\": 3, \"seed\": 4")).Message, "property 'seed' is given twice");

    [TestMethod]
    public void No_models() =>
        StringAssert.Contains(Single(Valid.Replace("[ { \"type\": \"most-popular\" }, { \"type\": \"item-knn\", \"parameters\": { \"neighbours\": 20 } } ]", "[]")).Message, "needs at least 1 item");

    [TestMethod]
    public void Unknown_interaction_table_for_the_dataset()
    {
        var error = Single(Valid.Replace("{ \"name\": \"demo-shop\" }", "{ \"name\": \"demo-shop\", \"table\": \"purchases\" }"));
        Assert.AreEqual("$.dataset.table", error.Path);
        StringAssert.Contains(error.Message, "allowed: events, ratings");
    }

    [TestMethod]
    public void Unknown_predefined_split()
    {
        var json = Valid.Replace("\"demo-shop\"", "\"yoochoose-clicks-100k\"").Replace("{ \"method\": \"stratified\", \"testFraction\": 0.2 }", "{ \"method\": \"predefined\", \"name\": \"u1\" }");
        var error = Single(json);
        Assert.AreEqual("$.split.name", error.Path);
        StringAssert.Contains(error.Message, "allowed: default, validation");
    }

    [TestMethod]
    public void Generator_options_only_for_synthetic_datasets()
    {
        var error = Single(Valid.Replace("{ \"name\": \"demo-shop\" }", "{ \"name\": \"movielens-latest-small\", \"options\": { \"users\": 5 } }"));
        StringAssert.Contains(error.Message, "unknown property 'options'");
    }

    [TestMethod]
    public void Every_problem_is_reported_at_once()
    {
        var e = Invalid(Valid.Replace("\"seed\": 3", "\"seed\": -1").Replace("\"testFraction\": 0.2", "\"testFraction\": 0"));
        Assert.HasCount(2, e.Errors);
    }

    [TestMethod]
    public void Builder_produces_the_same_definition_as_json()
    {
        var built = ExperimentBuilder.Create("t")
            .ForTask("ranking")
            .OnDataset("demo-shop")
            .Split("stratified", testFraction: 0.2)
            .AddModel("most-popular")
            .AddModel("item-knn", p => p["neighbours"] = 20)
            .WithMetrics("ndcg@10", "hit-rate@5")
            .WithSeed(3)
            .Build(Platform.Vocabulary);
        var read = Platform.Reader.Read(Valid, "ok.json");
        Assert.AreEqual(DefinitionWriter.ToJson(read), DefinitionWriter.ToJson(built));
        Assert.AreEqual(DefinitionWriter.Hash(read), DefinitionWriter.Hash(built));
    }

    [TestMethod]
    public void Builder_rejects_what_json_rejects()
    {
        var e = Assert.ThrowsExactly<DefinitionException>(() => ExperimentBuilder.Create("t").OnDataset("demo-shop").AddModel("no-such-model").WithMetrics("ndcg@10").Build(Platform.Vocabulary));
        StringAssert.Contains(e.Message, "unknown type 'no-such-model'");
    }

    [TestMethod]
    public void Committed_schema_is_the_generated_one()
    {
        var committed = File.ReadAllText(Path.Combine(CliProcess.RepositoryRoot, "experiments", "experiment.schema.json"));
        Assert.AreEqual(Platform.Schema, committed, "Regenerate with: dotnet run --project src/Experiments.Cli -- schema > experiments/experiment.schema.json");
    }

    [TestMethod]
    public void Every_shipped_definition_is_valid()
    {
        // The benchmarks' definitions too: a script that runs them must not find them broken.
        var files = Directory.GetFiles(Path.Combine(CliProcess.RepositoryRoot, "experiments"), "*.json", SearchOption.AllDirectories).Where(f => !f.EndsWith("schema.json")).ToList();
        Assert.IsTrue(files.Any(f => f.Contains($"{Path.DirectorySeparatorChar}benchmarks{Path.DirectorySeparatorChar}")), "the benchmarks' definitions are checked");
        foreach (var file in files) Platform.Reader.ReadFile(file);
    }

    [TestMethod]
    public void Every_task_ships_a_sweep_definition()
    {
        var sweeps = Directory.GetFiles(Path.Combine(CliProcess.RepositoryRoot, "experiments"), "sweep-*.json").Select(Platform.Reader.ReadFile).ToList();
        Assert.IsTrue(sweeps.All(d => d.Sweep is not null), "a sweep-*.json has a sweep block");
        foreach (var task in Platform.Vocabulary.Tasks)
            Assert.IsTrue(sweeps.Any(d => d.Task == task), $"experiments/ has no sweep definition for task '{task}'");
    }
}
