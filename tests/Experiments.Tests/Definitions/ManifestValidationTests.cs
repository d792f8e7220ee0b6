using System.Text.Json;
using Experiments.Core.Definitions;
using Experiments.Runs;

namespace Experiments.Tests.Definitions;

/// <summary>`validate` rejects what `run` would reject from the data set's manifest, located like every other error.</summary>
[TestClass]
public sealed class ManifestValidationTests
{
    private static string Definition(string task, string dataset, string split, string models = """{ "type": "most-popular" }""", string metric = "ndcg@10") => $$"""
        {
          "name": "m",
          "task": "{{task}}",
          "dataset": {{dataset}},
          "split": {{split}},
          "models": [ {{models}} ],
          "metrics": ["{{metric}}"]
        }
        """;

    private static DefinitionError Single(string json)
    {
        var e = Assert.ThrowsExactly<DefinitionException>(() => Platform.Reader.Read(json, "m.json"));
        Assert.HasCount(1, e.Errors, e.Message);
        return e.Errors[0];
    }

    [TestMethod]
    public void A_split_by_time_on_a_table_without_timestamps_is_an_error_at_the_split_method()
    {
        foreach (var method in new[] { "temporal", "leave-last-n" })
        {
            var error = Single(Definition("ranking", """{ "name": "movielens-latest-small-80-20" }""", $$"""{ "method": "{{method}}" }"""));
            Assert.AreEqual("$.split.method", error.Path);
            Assert.AreEqual((5, 24), (error.Line, error.Column));
            StringAssert.Contains(error.Message, $"split method '{method}' orders each user's rows by time, but table 'train' (the default) of 'movielens-latest-small-80-20' has no timestamps");
        }
        // Time order from a timestamp column or from user sequences in time order is accepted.
        Platform.Reader.Read(Definition("ranking", """{ "name": "demo-shop" }""", """{ "method": "temporal" }"""), "ok.json");
        Platform.Reader.Read(Definition("ranking", """{ "name": "amazon-beauty-5core" }""", """{ "method": "leave-last-n", "n": 1 }"""), "ok.json");
    }

    [TestMethod]
    public void A_rating_task_on_a_table_without_ratings_is_an_error_at_the_task()
    {
        var error = Single(Definition("rating", """{ "name": "demo-shop" }""", """{ "method": "random" }""", """{ "type": "global-mean" }""", "rmse"));
        Assert.AreEqual("$.task", error.Path);
        Assert.AreEqual((3, 11), (error.Line, error.Column));
        StringAssert.Contains(error.Message, "task 'rating' predicts ratings, but table 'events' (the default) of 'demo-shop' has none; use task 'ranking', or a table with ratings (\"table\": \"ratings\")");
        var named = Single(Definition("rating", """{ "name": "yoochoose-clicks-100k", "table": "train-tr" }""", """{ "method": "random" }""", """{ "type": "global-mean" }""", "rmse"));
        StringAssert.Contains(named.Message, "table 'train-tr' of 'yoochoose-clicks-100k' has none; use task 'ranking'");
        Platform.Reader.Read(Definition("rating", """{ "name": "demo-shop", "table": "ratings" }""", """{ "method": "random" }""", """{ "type": "global-mean" }""", "rmse"), "ok.json");
    }

    [TestMethod]
    public void Leave_last_n_beyond_every_users_history_is_caught_with_the_data()
    {
        using var work = new TempFolder();
        var path = work.File("l.json", Definition("ranking", """{ "name": "demo-shop", "options": { "users": 30, "items": 40 } }""", """{ "method": "leave-last-n", "n": 1000 }"""));
        var plain = CliProcess.Run(work.Path, "validate", "l.json");
        Assert.AreEqual(0, plain.ExitCode, plain.Error);
        StringAssert.Contains(plain.Output, "needs the data: add --with-data");

        var checkedWithData = CliProcess.Run(work.Path, "validate", "l.json", "--with-data", "--json");
        Assert.AreEqual(2, checkedWithData.ExitCode, checkedWithData.Error);
        var error = JsonDocument.Parse(checkedWithData.Output).RootElement.GetProperty("errors")[0];
        Assert.AreEqual("$.split.n", error.GetProperty("path").GetString());
        Assert.AreEqual(5, error.GetProperty("line").GetInt32());
        // The longest history, counted here from the same generated table.
        var events = new Experiments.Datasets.DatasetLoader().Open(new Experiments.Datasets.DatasetRequest("demo-shop") { Options = new Dictionary<string, double> { ["users"] = 30, ["items"] = 40 } }).Interactions();
        var longest = events.User.GroupBy(u => u).Max(g => g.Count());
        StringAssert.Contains(error.GetProperty("message").GetString(), $"the longest user history in 'events' has {longest} row(s), so no user would be tested; use n below {longest}");

        work.File("ok.json", Definition("ranking", """{ "name": "demo-shop", "options": { "users": 30, "items": 40 } }""", """{ "method": "leave-last-n", "n": 1 }"""));
        var ok = CliProcess.Run(work.Path, "validate", "ok.json", "--with-data");
        Assert.AreEqual(0, ok.ExitCode, ok.Error);
    }
}
