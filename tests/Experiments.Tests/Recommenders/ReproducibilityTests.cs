using System.Diagnostics;
using System.Text.Json;
using Experiments.Recommenders;

namespace Experiments.Tests.Recommenders;

/// <summary>
/// Same definition, same seed, two separate processes of the real CLI: every recommender gives the same metrics bit for
/// bit. The processes are told they have 8 processors (DOTNET_PROCESSOR_COUNT), so every parallel path runs on more
/// threads than this machine has cores and their completion order varies between the two runs.
/// </summary>
[TestClass]
public sealed class ReproducibilityTests
{
    private static readonly Dictionary<string, object> Small = new() { ["iterations"] = 4, ["rank"] = 8, ["burnIn"] = 2, ["samples"] = 4 };

    /// <summary>Every catalogue model under its first task; matrix factorisation with both solvers.</summary>
    private static IEnumerable<(string Task, string Name, string Type, Dictionary<string, object> Parameters)> Models()
    {
        foreach (var model in RecommenderCatalog.Models)
        {
            var parameters = Small.Where(p => model.Parameters.Any(d => d.Name == p.Key)).ToDictionary();
            if (model.Type == "matrix-factorization")
            {
                yield return ("rating", "mf-als", model.Type, new(parameters) { ["solver"] = "als" });
                yield return ("rating", "mf-sgd", model.Type, new(parameters) { ["solver"] = "sgd" });
                continue;
            }
            yield return (model.Tasks[0], model.Type, model.Type, parameters);
        }
    }

    private static string Definition(string task, IEnumerable<(string Task, string Name, string Type, Dictionary<string, object> Parameters)> models) =>
        JsonSerializer.Serialize(new
        {
            name = $"reproducible-{task}",
            task,
            dataset = new { name = "demo-shop", table = task == "rating" ? "ratings" : "events", options = new { users = 1000, items = 300 } },
            split = new { method = "random", testFraction = 0.2, validationFraction = 0.1 },
            models = models.Select(m => new { type = m.Type, name = m.Name, parameters = m.Parameters }),
            metrics = task == "rating" ? new[] { "rmse", "mae" } : ["ndcg@10", "recall@10"],
            evaluation = new { bootstrapSamples = 50 },
            seed = 7,
            output = new { store = "runs.db", reports = "reports", formats = new[] { "json" } },
        });

    /// <summary>model name → its metrics as stored, each value as the JSON text of the double (shortest round-trip form).</summary>
    private static Dictionary<string, string> Run(string definition)
    {
        using var work = new TempFolder();
        work.File("e.json", definition);
        var info = CliProcess.StartInfo(work.Path, "run", "e.json", "--quiet", "--json");
        info.Environment["DOTNET_PROCESSOR_COUNT"] = "8";
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5))) { process.Kill(true); Assert.Fail("the CLI did not finish in 5 minutes"); }
        Assert.AreEqual(0, process.ExitCode, error.Result);
        var trials = JsonDocument.Parse(output.Result).RootElement.GetProperty("trials");
        return trials.EnumerateArray().ToDictionary(
            t => t.GetProperty("modelName").GetString()!,
            t =>
            {
                Assert.AreEqual("finished", t.GetProperty("status").GetString(), t.GetProperty("error").ToString());
                return t.GetProperty("metrics").GetRawText();
            });
    }

    [TestMethod]
    public void Every_recommender_gives_identical_metrics_in_two_processes()
    {
        var models = Models().ToList();
        CollectionAssert.IsSubsetOf(RecommenderCatalog.Models.Select(m => m.Type).ToList(), models.Select(m => m.Type).Distinct().ToList());
        foreach (var task in new[] { "ranking", "rating" })
        {
            var definition = Definition(task, models.Where(m => m.Task == task));
            var first = Run(definition);
            var second = Run(definition);
            CollectionAssert.AreEquivalent(first.Keys, second.Keys);
            foreach (var (model, metrics) in first)
                Assert.AreEqual(metrics, second[model], $"{task} model {model}: the two processes disagree");
        }
    }
}
