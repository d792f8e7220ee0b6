using Experiments.Core.Definitions;
using Experiments.Reports;
using Experiments.Runs;
using Experiments.Store;

namespace Experiments.Tests.Runs;

/// <summary>Facts of fitted models (EASE's item cap, whether matrix factorisation is reproducible) stored with the trial and shown in the report.</summary>
[TestClass]
public sealed class ModelFactsTests
{
    [TestMethod]
    public void The_cap_and_reproducibility_a_definition_asks_for_are_stored_with_the_trial_and_reported()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var definition = ExperimentBuilder.Create("facts").ForTask("ranking")
            .OnDataset("demo-shop", d => d with { Table = "ratings", Options = new Dictionary<string, double> { ["users"] = 300, ["items"] = 120 } })
            .Split("stratified", 0.2)
            .AddModel("ease", p => p["maxItems"] = 40L, name: "ease-capped")
            .AddModel("ease", name: "ease-full")
            .AddModel("matrix-factorization", p => { p["solver"] = "sgd"; p["hogwild"] = true; p["threads"] = 2L; p["iterations"] = 3L; }, name: "mf-hogwild")
            .AddModel("matrix-factorization", p => p["iterations"] = 3L, name: "mf-als")
            .WithMetrics("ndcg@10").WithEvaluation(e => e with { BootstrapSamples = 20 })
            .Build(Platform.Vocabulary);
        var outcome = new ExperimentRunner(store).Run(definition, new RunOptions { ReportDirectory = folder.Path });
        Assert.AreEqual(RunStatus.Finished, outcome.Status, outcome.Error);
        var details = store.GetRun(outcome.RunId);
        var facts = details.Trials.ToDictionary(t => t.ModelName, t => t.Facts);

        Assert.AreEqual("40", facts["ease-capped"]["maxItems"], "the cap asked for");
        Assert.AreEqual("40", facts["ease-capped"]["modelledItems"], "120 items, more than 40 of them in training: the cap binds");
        Assert.AreEqual("none", facts["ease-full"]["maxItems"], "no cap asked for");
        Assert.AreEqual(facts["ease-full"]["catalogueItems"], facts["ease-capped"]["catalogueItems"]);
        Assert.AreEqual("false", facts["mf-hogwild"]["reproducible"], "Hogwild SGD on two threads depends on thread timing");
        Assert.AreEqual("true", facts["mf-als"]["reproducible"]);
        Assert.AreEqual("true", facts["ease-full"]["reproducible"]);

        var markdown = ReportWriter.Markdown(details);
        StringAssert.Contains(markdown, "Model facts");
        StringAssert.Contains(markdown, "| ease-capped | ");
        StringAssert.Contains(markdown, "| maxItems | 40 |");
        StringAssert.Contains(markdown, "Not reproducible bit for bit (a parallel fit whose result depends on thread timing, asked for by the definition): mf-hogwild.");
        StringAssert.Contains(ReportWriter.Html(details), "maxItems");
        using var json = System.Text.Json.JsonDocument.Parse(ReportWriter.Json(RunReport.From(details)));
        var trials = json.RootElement.EnumerateObject().First(p => p.Name.Equals("trials", StringComparison.OrdinalIgnoreCase)).Value;
        var hogwild = trials.EnumerateArray().First(t => t.EnumerateObject().First(p => p.Name.Equals("modelName", StringComparison.OrdinalIgnoreCase)).Value.GetString() == "mf-hogwild");
        Assert.AreEqual("false", hogwild.EnumerateObject().First(p => p.Name.Equals("facts", StringComparison.OrdinalIgnoreCase)).Value.GetProperty("reproducible").GetString());
    }
}
