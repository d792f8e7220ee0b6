using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Experiments.Reports;
using Experiments.Store;
using Experiments.Sweeps;
using Experiments.Sweeps.Tuners;
using Microsoft.Data.Sqlite;

namespace Experiments.Tests.Reports;

/// <summary>
/// Sweep reports: a sweep run through the engine into a SQLite store, with completed, failed, pruned and timed-out
/// trials and a conditional parameter; its report renders offline with every chart drawn (the parallel coordinates
/// in WebGL), and its numbers are the store's, read back here with SQL.
/// </summary>
public sealed partial class ReportTests
{
    private const string SweepSpace = """
        { "x": { "float": [0.01, 10], "log": true }, "n": { "int": [1, 8] }, "kind": { "choice": ["a", "b"] }, "depth": { "int": [1, 4], "when": { "kind": ["b"] } } }
        """;

    /// <summary>Trial 3 fails, trial 5 reports two values and is pruned, trial 7 runs past its time limit; the others complete.</summary>
    private static TrialOutcome SweepObjective(TrialContext c)
    {
        var p = c.Parameters;
        var value = Math.Pow(Math.Log10(p.Number("x")), 2) + p.Number("n") / 10 + (p.Text("kind") == "b" ? p.Number("depth") / 10 : 0.5);
        switch (c.Number)
        {
            case 3: throw new InvalidOperationException($"diverged at x = {p.Number("x").ToString("R", CultureInfo.InvariantCulture)}");
            case 5:
                c.Report(1, 4.5);
                c.Report(2, 4.25);
                throw new TrialPrunedException(2);
            case 7:
                c.Cancellation.WaitHandle.WaitOne();
                c.Cancellation.ThrowIfCancellationRequested();
                break;
        }
        return new TrialOutcome(new Dictionary<string, TrialMetric> { ["loss"] = new(value, value - 0.1, value + 0.1), ["n-share"] = new(p.Number("n") / 8) });
    }

    [TestMethod]
    public void A_sweep_report_renders_offline_and_its_numbers_are_the_stores()
    {
        var chromium = Browser();
        using var folder = new TempFolder();
        var database = Path.Combine(folder.Path, "runs.db");
        using var store = SqliteRunStore.Open(database);
        var space = SpaceJson.Parse(SweepSpace, "test space");
        var settings = new SweepSettings
        {
            Name = "report-sweep", Space = space, Objective = new SweepObjective("loss"), Seed = 4, MaxTrials = 16, Parallelism = 2,
            TrialTimeout = TimeSpan.FromSeconds(1),
        };
        var sweepId = new SweepRunner(store).Run(settings, TunerCatalog.Create("random", space, 4), SweepObjective).SweepId;

        var report = SweepReport.From(store, sweepId, store);
        var out_ = Path.Combine(folder.Path, "out");
        var html = ReportWriter.WriteSweep(report, "html", out_);
        // History, importance (all trials and the kind = b branch), parallel coordinates, a scatter per parameter (x, n, kind, depth).
        AssertRenders(chromium, html, atLeast: 8);
        var page = File.ReadAllText(html);
        foreach (var title in new[] { "loss by trial", "Parameter importance", "Parameter importance: kind = \"b\"", "Parallel coordinates of the completed trials", "x vs loss", "depth vs loss", "kind vs loss" })
            StringAssert.Contains(page, $"<figcaption>{System.Net.WebUtility.HtmlEncode(title)}</figcaption>");

        // The store, read with SQL.
        using var connection = new SqliteConnection($"Data Source={database};Mode=ReadOnly;Pooling=False");
        connection.Open();
        List<object?[]> Query(string sql)
        {
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.Parameters.AddWithValue("$sweep", sweepId);
            using var reader = command.ExecuteReader();
            var rows = new List<object?[]>();
            while (reader.Read()) rows.Add(Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? null : reader.GetValue(i)).ToArray());
            return rows;
        }
        var trials = Query("SELECT number, status, value, error FROM sweep_trials WHERE sweep_id = $sweep ORDER BY number")
            .ToDictionary(r => Convert.ToInt32(r[0]), r => (Status: (string)r[1]!, Value: r[2] is null ? (double?)null : Convert.ToDouble(r[2]), Error: (string?)r[3]));
        var parameters = Query("SELECT number, name, value FROM sweep_parameters WHERE sweep_id = $sweep")
            .ToDictionary(r => (Convert.ToInt32(r[0]), (string)r[1]!), r => (string)r[2]!);
        Assert.HasCount(16, trials);
        Assert.AreEqual(("failed", "pruned", "timed-out"), (trials[3].Status, trials[5].Status, trials[7].Status));
        Assert.AreEqual(4.25, trials[5].Value, "a pruned trial's value is its last reported one");
        var completed = trials.Where(t => t.Value.Status == "completed").OrderBy(t => t.Value.Value).ThenBy(t => t.Key).ToList();
        Assert.HasCount(13, completed);

        // JSON: every trial's status, value and parameters; ranks by value; counts; the best-so-far by hand; the space as an object.
        var json = JsonDocument.Parse(File.ReadAllText(ReportWriter.WriteSweep(report, "json", out_))).RootElement;
        Assert.AreEqual(JsonValueKind.Object, json.GetProperty("space").GetProperty("depth").ValueKind);
        var rows = json.GetProperty("trials").EnumerateArray().ToList();
        CollectionAssert.AreEqual(completed.Select(t => t.Key).Concat([3, 5, 7]).ToList(), rows.Select(r => r.GetProperty("number").GetInt32()).ToList(),
            "completed trials best first, then the others in trial order");
        foreach (var row in rows)
        {
            var stored = trials[row.GetProperty("number").GetInt32()];
            Assert.AreEqual(stored.Status, row.GetProperty("status").GetString());
            Assert.AreEqual(stored.Value, row.GetProperty("value").ValueKind == JsonValueKind.Null ? null : row.GetProperty("value").GetDouble());
            foreach (var p in row.GetProperty("parameters").EnumerateObject())
            {
                using var storedValue = JsonDocument.Parse(parameters[(row.GetProperty("number").GetInt32(), p.Name)]);
                if (p.Value.ValueKind == JsonValueKind.String) Assert.AreEqual(storedValue.RootElement.GetString(), p.Value.GetString());
                else Assert.AreEqual(storedValue.RootElement.GetDouble(), p.Value.GetDouble(), $"trial {row.GetProperty("number")} {p.Name}");
            }
        }
        CollectionAssert.AreEqual(Enumerable.Range(1, 13).ToList(), rows.Take(13).Select(r => r.GetProperty("rank").GetInt32()).ToList());
        Assert.AreEqual(JsonValueKind.Null, rows[13].GetProperty("rank").ValueKind);
        StringAssert.Contains(rows.Single(r => r.GetProperty("number").GetInt32() == 3).GetProperty("error").GetString()!, "diverged at x = ");
        Assert.AreEqual(13, json.GetProperty("statusCounts").GetProperty("completed").GetInt32());
        Assert.AreEqual(1, json.GetProperty("statusCounts").GetProperty("timed-out").GetInt32());
        Assert.AreEqual(completed[0].Key, json.GetProperty("best").GetProperty("number").GetInt32());
        double? best = null;
        foreach (var (point, number) in json.GetProperty("history").EnumerateArray().Zip(Enumerable.Range(0, 16)))
        {
            if (trials[number] is { Status: "completed", Value: { } v } && (best is null || v < best)) best = v;
            Assert.AreEqual(number, point.GetProperty("number").GetInt32());
            Assert.AreEqual(best, point.GetProperty("best").GetDouble(), $"best so far after trial {number}");
        }
        // Importance: the engine's fANOVA over the completed trials; each scope's shares sum to 1.
        var importance = json.GetProperty("importance").EnumerateArray().ToList();
        foreach (var scope in importance.GroupBy(i => i.GetProperty("scope").ValueKind == JsonValueKind.Null ? null : i.GetProperty("scope").GetString()))
            Assert.AreEqual(1, scope.Sum(i => i.GetProperty("importance").GetDouble()), 1e-9, $"scope {scope.Key ?? "all trials"}");
        CollectionAssert.AreEquivalent(new[] { "x", "n", "kind" }, importance.Where(i => i.GetProperty("scope").ValueKind == JsonValueKind.Null).Select(i => i.GetProperty("parameter").GetString()).ToArray());
        Assert.IsTrue(importance.Any(i => i.GetProperty("parameter").GetString() == "depth" && i.GetProperty("scope").GetString() == "kind = \"b\""));

        // HTML: the trials table's value and parameter cells hold the store's numbers exactly; the others' statuses and errors are shown.
        var table = Regex.Match(page, "<table id=\"trials\">.*?</table>", RegexOptions.Singleline).Value;
        var header = Regex.Matches(Regex.Match(table, "<thead>.*?</thead>", RegexOptions.Singleline).Value, "<th>(.*?)</th>").Select(m => m.Groups[1].Value).ToList();
        CollectionAssert.AreEqual(new[] { "#", "trial", "loss", "n-share", "x", "n", "kind", "depth", "seconds" }, header);
        var htmlRows = Regex.Matches(table, "<tr>(.*?)</tr>", RegexOptions.Singleline).Skip(1).ToList();
        Assert.HasCount(13, htmlRows);
        foreach (var (row, rank) in htmlRows.Zip(Enumerable.Range(0, 13)))
        {
            var cells = Regex.Matches(row.Groups[1].Value, "<td[^>]*>(.*?)</td>").ToList();
            var number = int.Parse(Regex.Replace(cells[1].Groups[1].Value, "<.*?>", ""), CultureInfo.InvariantCulture);
            Assert.AreEqual(completed[rank].Key, number);
            Assert.AreEqual(trials[number].Value, double.Parse(Regex.Match(cells[2].Value, "data-value=\"([^\"]+)\"").Groups[1].Value, CultureInfo.InvariantCulture));
            Assert.AreEqual(double.Parse(parameters[(number, "x")], CultureInfo.InvariantCulture), double.Parse(Regex.Match(cells[4].Value, "data-value=\"([^\"]+)\"").Groups[1].Value, CultureInfo.InvariantCulture));
            Assert.AreEqual(parameters.ContainsKey((number, "depth")) ? parameters[(number, "depth")] : "—",
                Regex.Match(cells[7].Value, "data-value=\"([^\"]+)\"") is { Success: true } m ? m.Groups[1].Value : cells[7].Groups[1].Value);
        }
        var unfinished = Regex.Match(page, "<table id=\"unfinished-trials\">.*?</table>", RegexOptions.Singleline).Value;
        StringAssert.Contains(unfinished, "<td>timed-out</td>");
        StringAssert.Contains(unfinished, System.Net.WebUtility.HtmlEncode($"InvalidOperationException: {trials[3].Error}"));

        var markdown = File.ReadAllText(ReportWriter.WriteSweep(report, "markdown", out_));
        StringAssert.Contains(markdown, $"- Chart: [loss by trial](sweep-{sweepId}.html#chart-1)");
        StringAssert.Contains(markdown, $"| 1 | {completed[0].Key} | ");
        var pdf = ReportWriter.WriteSweep(report, "pdf", out_);
        var head = new byte[5];
        using (var stream = File.OpenRead(pdf)) stream.ReadExactly(head);
        Assert.AreEqual("%PDF-", System.Text.Encoding.ASCII.GetString(head));
    }

    [TestMethod]
    public void Experiments_sweep_writes_the_sweep_report_beside_the_runs_and_report_sweep_shows_the_refits_test_result()
    {
        using var work = new TempFolder();
        work.File("sweep.json", """
            {
              "name": "sweep-report", "task": "rating",
              "dataset": { "name": "demo-shop", "table": "ratings", "options": { "users": 200, "items": 150, "seed": 3 } },
              "split": { "method": "random", "testFraction": 0.2, "validationFraction": 0.2 },
              "models": [ { "type": "bias" } ],
              "metrics": ["rmse", "mae"],
              "evaluation": { "bootstrapSamples": 20 },
              "sweep": { "tuner": "random", "trials": 4 },
              "seed": 5,
              "output": { "store": "runs.db", "reports": "reports", "formats": ["html", "json"] }
            }
            """);
        var sweep = CliProcess.Run(work.Path, "sweep", "sweep.json", "--quiet");
        Assert.AreEqual(0, sweep.ExitCode, sweep.Error);
        var folder = CliProcess.ReportFolder(Path.Combine(work.Path, "reports"), 1);
        Assert.IsTrue(File.Exists(Path.Combine(folder, "sweep-1.html")) && File.Exists(Path.Combine(folder, "sweep-1.json")), "the sweep's report beside the run's");
        StringAssert.Contains(File.ReadAllText(Path.Combine(folder, "report.html")), "sweep-1.html", "the run's report lists the sweep's among its artifacts");

        var report = CliProcess.Run(work.Path, "report", "--sweep", "1", "--store", "runs.db", "--format", "json", "--out", "out");
        Assert.AreEqual(0, report.ExitCode, report.Error);
        var refit = JsonDocument.Parse(File.ReadAllText(Path.Combine(work.Path, "out", "sweep-1.json"))).RootElement.GetProperty("refit");
        Assert.AreEqual(1, refit.GetProperty("runId").GetInt32());
        using var connection = new SqliteConnection($"Data Source={Path.Combine(work.Path, "runs.db")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT m.name, m.value, m.lower, m.upper FROM metrics m WHERE m.run_id = 1";
        using var reader = command.ExecuteReader();
        var row = refit.GetProperty("rows").EnumerateArray().Single();
        var count = 0;
        while (reader.Read())
        {
            var cell = row.GetProperty("metrics").GetProperty(reader.GetString(0));
            Assert.AreEqual((reader.GetDouble(1), reader.GetDouble(2), reader.GetDouble(3)),
                (cell.GetProperty("value").GetDouble(), cell.GetProperty("lower").GetDouble(), cell.GetProperty("upper").GetDouble()), reader.GetString(0));
            count++;
        }
        Assert.AreEqual(2, count, "rmse and mae of the refit, on the test part");

        var missing = CliProcess.Run(work.Path, "report", "--sweep", "9", "--store", "runs.db");
        Assert.AreEqual(2, missing.ExitCode);
        StringAssert.Contains(missing.Error, "There is no sweep 9 in");
    }
}
