using System.Text.Json;
using Experiments.Datasets.Manifests;

namespace Experiments.Tests.Cli;

/// <summary>`experiments datasets add` in its own process: the manifest it writes is found by list, describe, validate and run.</summary>
[TestClass]
public sealed class DatasetAddTests
{
    [TestMethod]
    public void Added_files_are_named_in_a_definition_like_a_built_in_data_set()
    {
        using var work = new TempFolder();
        var environment = new Dictionary<string, string> { [DatasetRegistry.UserFolderVariable] = Path.Combine(work.Path, "manifests") };
        var random = new Random(3);
        string Rows(int users) => "customer;sku;stars\n" + string.Concat(Enumerable.Range(0, users).SelectMany(u =>
            Enumerable.Range(0, 8).Select(_ => $"c{u};p{random.Next(30)};{1 + random.Next(5)}\n")).Distinct());
        work.File("shop/train.csv", Rows(30));
        work.File("shop/test.csv", Rows(30));

        var add = CliProcess.Run(environment, work.Path, "datasets", "add", "my-shop", "--from", "train=shop/train.csv", "test=shop/test.csv", "--columns", "user=customer,item=sku", "--json");
        Assert.AreEqual(0, add.ExitCode, add.Error);
        var written = JsonDocument.Parse(add.Output).RootElement;
        Assert.AreEqual(Path.Combine(work.Path, "manifests", "my-shop.json"), written.GetProperty("manifestPath").GetString());
        var manifest = DatasetRegistry.Parse(File.ReadAllText(Path.Combine(work.Path, "manifests", "my-shop.json")), "my-shop.json");
        Assert.AreEqual(";", manifest.Tables[0].Delimiter, "the delimiter is sniffed from the first line");
        Assert.AreEqual("rating", manifest.Tables[0].Columns.Single(c => c.Name == "stars").Role);
        Assert.AreEqual(Path.Combine(work.Path, "shop"), manifest.Folder);

        var list = CliProcess.Run(environment, work.Path, "datasets", "list", "--json");
        Assert.AreEqual(0, list.ExitCode, list.Error);
        var mine = JsonDocument.Parse(list.Output).RootElement.GetProperty("datasets").EnumerateArray().Single(d => d.GetProperty("name").GetString() == "my-shop");
        Assert.AreEqual(Path.Combine(work.Path, "shop"), mine.GetProperty("location").GetString());
        Assert.IsNotNull(mine.GetProperty("added").GetString());
        var describe = CliProcess.Run(environment, work.Path, "datasets", "describe", "my-shop");
        Assert.AreEqual(0, describe.ExitCode, describe.Error);
        StringAssert.Contains(describe.Output, "predefined split default: train → test");

        work.File("e.json", """
            {
              "name": "on-my-shop", "task": "rating",
              "dataset": { "name": "my-shop" },
              "split": { "method": "predefined", "name": "default", "validationFraction": 0.2 },
              "models": [ { "type": "bias" } ],
              "metrics": ["rmse"],
              "evaluation": { "bootstrapSamples": 0 },
              "output": { "store": "runs.db" }
            }
            """);
        var run = CliProcess.Run(environment, work.Path, "run", "e.json");
        Assert.AreEqual(0, run.ExitCode, run.Error + run.Output);
        StringAssert.Contains(run.Output, "Run 1 finished");

        var again = CliProcess.Run(environment, work.Path, "datasets", "add", "my-shop", "--from", "shop/train.csv");
        Assert.AreEqual(2, again.ExitCode);
        StringAssert.Contains(again.Error, "Data set 'my-shop' exists already");
        var builtIn = CliProcess.Run(environment, work.Path, "datasets", "add", "movielens-100k", "--from", "shop/train.csv");
        Assert.AreEqual(2, builtIn.ExitCode);
        StringAssert.Contains(builtIn.Error, "'movielens-100k' is a built-in data set; choose another name");
        var missing = CliProcess.Run(environment, work.Path, "datasets", "add", "other", "--from", "shop/nope.csv");
        Assert.AreEqual(2, missing.ExitCode);
        StringAssert.Contains(missing.Error, $"--from: no such file: {Path.Combine(work.Path, "shop", "nope.csv")}");
        Assert.IsFalse(again.Error.Contains("   at ") || builtIn.Error.Contains("   at ") || missing.Error.Contains("   at "));
    }
}
