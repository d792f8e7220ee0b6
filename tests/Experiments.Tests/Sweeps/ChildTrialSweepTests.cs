using Experiments.Runs;
using Experiments.Store;
using Experiments.Sweeps;

namespace Experiments.Tests.Sweeps;

/// <summary>`experiments sweep` with a per-trial memory limit and parallel trials: each trial a child process, killed past its limit.</summary>
[TestClass]
public sealed class ChildTrialSweepTests
{
    [TestMethod]
    public void A_trial_past_its_memory_limit_is_killed_and_stored_out_of_memory_while_the_other_finishes()
    {
        using var folder = new TempFolder();
        // 2,000 users with 20 of 6,000 items each: EASE over every item holds a 6,000² float64 Gram matrix (275 MiB)
        // and its inverse; over the 20 most popular, almost nothing beyond the loaded data.
        var random = new Random(1);
        var rows = Enumerable.Range(0, 2000).SelectMany(u => random.GetItems(Enumerable.Range(0, 6000).ToArray(), 40).Distinct().Take(20).Select(i => $"u{u},i{i}"));
        folder.File("events.csv", "user,item\n" + string.Join("\n", rows) + "\n");
        var file = folder.File("sweep.json", """
            {
              "name": "memory-limited",
              "task": "ranking",
              "dataset": { "name": "events", "files": { "table": "events.csv" }, "format": { "delimiter": ",", "header": true }, "columns": { "user": "user", "item": "item" } },
              "split": { "method": "random", "testFraction": 0.2, "validationFraction": 0.2 },
              "models": [ { "type": "ease", "name": "ease", "parameters": { "doublePrecision": true } } ],
              "metrics": ["ndcg@10"],
              "evaluation": { "bootstrapSamples": 0 },
              "sweep": { "tuner": "grid", "trials": 2, "parallelism": 2, "trialMemoryMb": 250, "defaultSpaces": false, "space": { "ease": { "maxItems": { "choice": [6000, 20] } } } },
              "seed": 5
            }
            """);
        var db = Path.Combine(folder.Path, "runs.db");
        // A temporary folder of the sweep's own, to see that the children's work and scratch files go.
        var temp = Directory.CreateDirectory(Path.Combine(folder.Path, "tmp")).FullName;
        var (code, output, error) = CliProcess.Run(new Dictionary<string, string> { ["TMPDIR"] = temp }, folder.Path, "sweep", file, "--store", db, "--reports", Path.Combine(folder.Path, "reports"), "--json");
        Assert.AreEqual(0, code, error + output);

        using var store = SqliteRunStore.Open(db);
        var trials = store.GetTrials(1).ToDictionary(t => t.Parameters.Integer("maxItems"));
        var heavy = trials[6000];
        Assert.AreEqual(TrialStatus.OutOfMemory, heavy.Status, heavy.Error);
        StringAssert.Contains(heavy.Error, "memory limit of 250 MiB");
        Assert.IsTrue(heavy.PeakMemoryBytes > 250L << 20, $"the killed child's peak ({heavy.PeakMemoryBytes} bytes) is past the limit");
        var light = trials[20];
        Assert.AreEqual(TrialStatus.Completed, light.Status, light.Error);
        Assert.IsTrue(light.PeakMemoryBytes is > 0 and < 250L << 20, $"the child's own peak is recorded ({light.PeakMemoryBytes} bytes)");
        // The sweep goes on to its refit: the completed trial is the best, refitted and tested in the sweep's own process.
        var run = store.ListRuns().Single();
        Assert.AreEqual(RunStatus.Finished, run.Status);
        Assert.AreEqual("20", store.GetRun(run.Id).Trials.Single().Parameters["maxItems"]);
        Assert.IsEmpty(Directory.GetFiles(temp, "experiments-trial-*"), "the children's work and scratch files are removed");
        Assert.IsEmpty(Directory.GetFileSystemEntries(temp, "experiments-*"), "and their report folders (no experiments-worker-reports either)");
    }

    [TestMethod]
    public void A_trial_process_is_this_programs_apphost_when_that_runs_it_else_the_dotnet_host()
    {
        var dll = Path.Combine(Path.GetTempPath(), "app", "experiments.dll");
        var apphost = Path.Combine(Path.GetTempPath(), "app", OperatingSystem.IsWindows() ? "experiments.exe" : "experiments");
        var direct = TrialProcess.Dotnet(dll, apphost, ["sweep-trial"]);
        Assert.AreEqual(apphost, direct.FileName);
        CollectionAssert.AreEqual(new[] { "sweep-trial" }, direct.Arguments.ToArray());
        var dotnet = Path.Combine(Path.GetTempPath(), "sdk", OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet");
        var hosted = TrialProcess.Dotnet(dll, dotnet, ["sweep-trial"]);
        Assert.AreEqual(dotnet, hosted.FileName);
        CollectionAssert.AreEqual(new[] { dll, "sweep-trial" }, hosted.Arguments.ToArray());
        // Another program's apphost (a test host) runs the dll through a dotnet host, not itself.
        var other = TrialProcess.Dotnet(dll, Path.Combine(Path.GetTempPath(), "app", "testhost"), ["sweep-trial"]);
        Assert.AreNotEqual(Path.Combine(Path.GetTempPath(), "app", "testhost"), other.FileName);
        CollectionAssert.AreEqual(new[] { dll, "sweep-trial" }, other.Arguments.ToArray());
    }

    [TestMethod]
    public void A_published_experiments_starts_its_child_trials_itself_with_no_dotnet_on_the_path()
    {
        using var folder = new TempFolder();
        var file = folder.File("sweep.json", """
            {
              "name": "apphost",
              "task": "rating",
              "dataset": { "name": "demo-shop", "table": "ratings", "options": { "users": 200, "items": 100, "seed": 3 } },
              "split": { "method": "random", "testFraction": 0.2, "validationFraction": 0.2 },
              "models": [ { "type": "bias" } ],
              "metrics": ["rmse"],
              "evaluation": { "bootstrapSamples": 0 },
              "sweep": { "tuner": "random", "trials": 2, "parallelism": 2, "trialMemoryMb": 2000 },
              "seed": 5
            }
            """);
        var db = Path.Combine(folder.Path, "runs.db");
        var temp = Directory.CreateDirectory(Path.Combine(folder.Path, "tmp")).FullName;
        // The apphost beside experiments.dll, as `dotnet publish` leaves it; no dotnet on PATH and none named by the SDK,
        // the runtime found as an installed apphost finds it (DOTNET_ROOT: .../shared/Microsoft.NETCore.App/VERSION/ up three).
        var info = new System.Diagnostics.ProcessStartInfo(Path.ChangeExtension(CliProcess.Dll, OperatingSystem.IsWindows() ? ".exe" : null))
        {
            WorkingDirectory = folder.Path, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var arg in new[] { "sweep", file, "--store", db, "--reports", Path.Combine(folder.Path, "reports"), "--json" }) info.ArgumentList.Add(arg);
        info.Environment["PATH"] = Directory.CreateDirectory(Path.Combine(folder.Path, "empty-path")).FullName;
        info.Environment.Remove("DOTNET_HOST_PATH");
        info.Environment["DOTNET_ROOT"] = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(typeof(object).Assembly.Location)!, "..", "..", ".."));
        info.Environment["TMPDIR"] = temp;
        info.Environment["NO_COLOR"] = "1";
        using (var process = System.Diagnostics.Process.Start(info)!)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromMinutes(5))) { process.Kill(true); Assert.Fail("the sweep did not finish in 5 minutes"); }
            Assert.AreEqual(0, process.ExitCode, error.Result + output.Result);
        }
        using var store = SqliteRunStore.Open(db);
        var trials = store.GetTrials(1);
        Assert.HasCount(2, trials);
        Assert.IsTrue(trials.All(t => t.Status == TrialStatus.Completed && t.PeakMemoryBytes > 0), string.Join("; ", trials.Select(t => $"{t.Status} {t.Error}")));
        Assert.IsEmpty(Directory.GetFileSystemEntries(temp, "experiments-*"), "the children's work, scratch stores and report folders are removed");
    }
}
