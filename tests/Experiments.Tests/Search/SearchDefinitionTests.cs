using System.Text.Json;
using Experiments.Core.Definitions;
using Experiments.Runs;
using Experiments.Store;

namespace Experiments.Tests.Search;

[TestClass]
public sealed class SearchDefinitionTests
{
    private static string Definition(string dataset = "\"name\": \"demo-shop\"", string models = "{ \"type\": \"bm25\" }", string extra = "", string split = "{ \"method\": \"random\" }",
        string metrics = "[\"ndcg@10\"]") => $$"""
        {
          "name": "s", "task": "search",
          "dataset": { {{dataset}} },
          "split": {{split}},
          "models": [ {{models}} ],
          "metrics": {{metrics}}{{extra}}
        }
        """;

    private static DefinitionError Single(string json)
    {
        var e = Assert.ThrowsExactly<DefinitionException>(() => Platform.Reader.Read(json, "bad.json"));
        Assert.HasCount(1, e.Errors, e.Message);
        return e.Errors[0];
    }

    [TestMethod]
    public void A_search_definition_binds_its_search_section_and_round_trips()
    {
        var d = Platform.Reader.Read(Definition(extra: ", \"search\": { \"judgements\": \"search-log\", \"maxQueries\": 50, \"gain\": \"linear\", \"relevanceThreshold\": 0.3 }"), "ok.json");
        Assert.AreEqual(new SearchSpec { Judgements = "search-log", MaxQueries = 50, Gain = "linear", RelevanceThreshold = 0.3 }, d.Search);
        var again = Platform.Reader.Read(DefinitionWriter.ToJson(d), "again.json");
        Assert.AreEqual(DefinitionWriter.Hash(d), DefinitionWriter.Hash(again));
        Assert.AreEqual(d.Search, again.Search);
    }

    [TestMethod]
    public void Model_parameters_have_ranges_in_the_schema()
    {
        var schema = JsonDocument.Parse(Platform.Schema).RootElement.ToString();
        foreach (var parameter in new[] { "\"k1\"", "\"b\"", "\"titleBoost\"", "\"bm25Weight\"", "\"rrfK\"", "\"depth\"", "\"holdoutFraction\"", "\"trees\"", "\"hardNegatives\"" })
            StringAssert.Contains(schema, parameter);
        var error = Single(Definition(models: "{ \"type\": \"bm25\", \"parameters\": { \"k1\": 5 } }"));
        StringAssert.Contains(error.Path, "k1");
    }

    [TestMethod]
    public void Mistakes_are_reported_with_what_is_allowed()
    {
        StringAssert.Contains(Single(Definition(dataset: "\"name\": \"movielens-latest-small\"")).Message, "has no search collection; for task 'search' use: demo-shop");
        StringAssert.Contains(Single(Definition(dataset: "\"name\": \"wands-queries\"", metrics: "[\"accuracy\"]")).Message, "has no product catalogue; use intent-tfidf or intent-encoder");
        var split = Single(Definition(split: "{ \"method\": \"temporal\" }"));
        Assert.AreEqual("$.split.method", split.Path);
        StringAssert.Contains(split.Message, "random or k-fold");
        var source = Single(Definition(extra: ", \"search\": { \"judgements\": \"search-logs\" }"));
        StringAssert.Contains(source.Message, "did you mean 'search-log'");
        StringAssert.Contains(Single(Definition(metrics: "[\"map@10\"]")).Message, "does not apply to task 'search'");
        StringAssert.Contains(Single(Definition(extra: ", \"search\": { \"gain\": \"quadratic\" }")).Message, "exponential, linear");
        var elsewhere = Assert.ThrowsExactly<DefinitionException>(() => Platform.Reader.Read("""
            { "name": "r", "task": "ranking", "dataset": { "name": "demo-shop" }, "models": [ { "type": "most-popular" } ], "metrics": ["ndcg@10"], "search": { "maxQueries": 3 } }
            """, "bad.json"));
        StringAssert.Contains(elsewhere.Message, "belongs to task 'search'");
    }

    [TestMethod]
    public void Other_tasks_keep_their_definition_hash()
    {
        // The search section is written only when present: a ranking definition's canonical text has no "search".
        var ranking = ExperimentBuilder.Create("q").ForTask("ranking").OnDataset("demo-shop").AddModel("most-popular").WithMetrics("ndcg@10").Build(Platform.Vocabulary);
        Assert.IsFalse(DefinitionWriter.ToJson(ranking).Contains("\"search\""));
    }

    [TestMethod]
    public void Every_committed_search_definition_is_valid()
    {
        foreach (var name in new[] { "demo-search.json", "pricerunner-search.json", "wands-intent.json" })
        {
            var definition = Platform.Reader.ReadFile(Path.Combine(CliProcess.RepositoryRoot, "experiments", name));
            Assert.AreEqual("search", definition.Task, name);
        }
    }
}
