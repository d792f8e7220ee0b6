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

    [TestMethod]
    public void Search_language_is_checked_against_the_analysers_bound_and_round_trips()
    {
        var language = Single(Definition(extra: ", \"search\": { \"language\": \"klingon\" }"));
        Assert.AreEqual(("$.search.language", "unknown value 'klingon'; allowed: english, chinese, standard"), (language.Path, language.Message));
        var parameter = Single(Definition(models: "{ \"type\": \"bm25\", \"parameters\": { \"language\": \"chinse\" } }"));
        Assert.AreEqual(("$.models[0].parameters.language", "unknown value 'chinse'; did you mean 'chinese'?; allowed: english, chinese, standard"), (parameter.Path, parameter.Message));
        var d = Platform.Reader.Read(Definition(extra: ", \"search\": { \"language\": \"chinese\" }"), "ok.json");
        Assert.AreEqual("chinese", d.Search!.Language);
        Assert.AreEqual(d.Search, Platform.Reader.Read(DefinitionWriter.ToJson(d), "again.json").Search);
        // Left out, it is not written: definitions without it keep their hash.
        Assert.IsFalse(DefinitionWriter.ToJson(Platform.Reader.Read(Definition(extra: ", \"search\": { \"gain\": \"linear\" }"), "ok.json")).Contains("\"language\""));
        var manifest = Assert.Throws<Experiments.Core.ExperimentsException>(() => Experiments.Datasets.Manifests.DatasetRegistry.Parse("""
            { "name": "m", "title": "t", "description": "d", "licence": "l", "folder": "m", "tables": [], "search": { "language": "chines" } }
            """, "m.json"));
        Assert.AreEqual("m.json: search.language: unknown language 'chines'; did you mean 'chinese'?; allowed: english, chinese, standard", manifest.Message);
    }

    [TestMethod]
    public void A_registered_data_sets_language_is_the_default_and_the_definition_overrides_it()
    {
        // A registered collection in Chinese (manifest "language": "chinese"): the query 耳机 (earphones) is one word for
        // SmartCn, found only in the earphones' title, so MRR@10 = 1. Asked for english, the definition cuts it into 耳 and
        // 机, which the shorter phone-case title 木耳手机壳 has too (BM25 by formula 1.13, the earphones 0.92), so the
        // earphones come second: MRR@10 = 1/2. The same for 手表 (watch) and the phone watch strap 手机表带.
        using var folder = new TempFolder();
        var manifest = SearchDataTests.Manifest("zh-shop", language: "chinese");
        folder.File("zh-shop/catalogue.csv", "id,title\nE1,无线蓝牙运动耳机\nC1,木耳手机壳\nW1,智能运动防水手表\nS1,手机表带\n");
        folder.File("zh-shop/queries.csv", "qid,text\nq1,耳机\nq2,手表\n");
        folder.File("zh-shop/grades.csv", "qid,id,grade\nq1,E1,1\nq2,W1,1\n");
        var registry = new Experiments.Datasets.Manifests.DatasetRegistry([manifest]);
        var reader = new DefinitionReader(Platform.VocabularyOf(registry));
        double Mrr(string extra, string models = "{ \"type\": \"bm25\" }")
        {
            var definition = reader.Read(Definition(dataset: "\"name\": \"zh-shop\"", models: models, split: "{ \"method\": \"random\", \"testFraction\": 0.5 }", metrics: "[\"mrr@10\"]",
                extra: ", \"evaluation\": { \"bootstrapSamples\": 0 }" + extra), "zh.json");
            using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
            var outcome = new ExperimentRunner(store, new Experiments.Datasets.DatasetLoader(registry))
                .Run(definition, new RunOptions { DataDirectory = folder.Path, ReportDirectory = Path.Combine(folder.Path, "reports") });
            Assert.AreEqual(RunStatus.Finished, outcome.Status, outcome.Error);
            return outcome.Trials.Single().Metrics.Single().Value;
        }
        Assert.AreEqual(1.0, Mrr(""), 1e-12, "the data set's chinese");
        Assert.AreEqual(0.5, Mrr(", \"search\": { \"language\": \"english\" }"), 1e-12);
        Assert.AreEqual(0.5, Mrr(", \"search\": { \"language\": \"chinese\" }", "{ \"type\": \"bm25\", \"parameters\": { \"language\": \"english\" } }"), 1e-12, "a model's own language wins");
    }
}
