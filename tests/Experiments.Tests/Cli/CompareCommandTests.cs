using System.Text.Json;

namespace Experiments.Tests.Cli;

/// <summary>`experiments compare` in its own process: the definition's resampling settings, Holm's p, and clear refusals.</summary>
[TestClass]
public sealed class CompareCommandTests
{
    private static string Definition(string task, string table, string models, string metrics) => $$"""
        {
          "name": "compare-{{task}}",
          "task": "{{task}}",
          "dataset": { "name": "demo-shop", "table": "{{table}}", "options": { "users": 300, "items": 150 } },
          "split": { "method": "random", "testFraction": 0.2 },
          "models": [ {{models}} ],
          "metrics": [ {{metrics}} ],
          "evaluation": { "bootstrapSamples": 40 },
          "output": { "store": "runs.db", "reports": "reports", "formats": ["markdown"] }
        }
        """;

    [TestMethod]
    public void Compare_tests_with_the_first_runs_settings_and_refuses_a_run_with_itself_or_another_task()
    {
        using var work = new TempFolder();
        work.File("ranking.json", Definition("ranking", "events", """{ "type": "random" }, { "type": "most-popular" }""", "\"ndcg@10\""));
        work.File("rating.json", Definition("rating", "ratings", """{ "type": "global-mean" }""", "\"rmse\""));
        foreach (var file in new[] { "ranking.json", "ranking.json", "rating.json" })
            Assert.AreEqual(0, CliProcess.Run(work.Path, "run", file, "--quiet").ExitCode);

        var compare = CliProcess.Run(work.Path, "compare", "1", "2", "--store", "runs.db", "--json");
        Assert.AreEqual(0, compare.ExitCode, compare.Error);
        var paired = JsonDocument.Parse(compare.Output).RootElement.GetProperty("paired").EnumerateArray().ToList();
        Assert.HasCount(2, paired);
        foreach (var c in paired)
        {
            Assert.AreEqual(40, c.GetProperty("resamples").GetInt32(), "the definition's bootstrapSamples, not a fixed 1000");
            Assert.AreEqual(1.0, c.GetProperty("holmPValue").GetDouble(), "the same run twice differs by nothing");
        }
        var table = CliProcess.Run(work.Path, "compare", "1", "2", "--store", "runs.db");
        StringAssert.Contains(table.Output, "Holm p");

        var self = CliProcess.Run(work.Path, "compare", "1", "1", "--store", "runs.db");
        Assert.AreEqual(2, self.ExitCode);
        StringAssert.Contains(self.Error, "Run 1 is named twice");
        var tasks = CliProcess.Run(work.Path, "compare", "1", "3", "--store", "runs.db");
        Assert.AreEqual(2, tasks.ExitCode);
        StringAssert.Contains(tasks.Error, "Run 1 is a ranking run and run 3 a rating run");
        Assert.IsFalse(tasks.Error.Contains("   at "), tasks.Error);
    }
}
