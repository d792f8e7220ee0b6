using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Experiments.Reports;
using Experiments.Runs;
using Experiments.Store;
using Microsoft.Data.Sqlite;

namespace Experiments.Tests.Reports;

public sealed partial class ReportTests
{
    [TestMethod]
    public void The_data_checks_show_each_kinds_count_and_an_example_of_a_rejected_row()
    {
        using var folder = new TempFolder();
        // Line 5 repeats line 4 exactly (dropped); lines 7 and 9 have two fields instead of three (skipped).
        folder.File("events.csv", "visitor,product,time\nu1,a,1\nu1,b,2\nu2,a,1\nu2,a,1\nu2,c,3\nu3,b\nu3,a,2\nu4,c\nu3,c,4\nu4,a,5\nu4,b,6\n");
        var path = folder.File("experiment.json", """
            {
              "name": "checked", "task": "ranking",
              "dataset": { "files": { "table": "events.csv" }, "columns": { "user": "visitor", "item": "product", "timestamp": "time" }, "badRows": "skip", "duplicates": "drop" },
              "split": { "method": "leave-last-n", "n": 1 },
              "models": [ { "type": "most-popular" } ],
              "metrics": ["hit-rate@1"],
              "evaluation": { "bootstrapSamples": 0 }
            }
            """);
        var database = Path.Combine(folder.Path, "runs.db");
        using var store = SqliteRunStore.Open(database);
        var outcome = new ExperimentRunner(store).Run(Platform.Reader.ReadFile(path), new RunOptions { ReportDirectory = Path.Combine(folder.Path, "reports") });
        var details = store.GetRun(outcome.RunId);
        var html = File.ReadAllText(ReportWriter.Write(details, "html", Path.Combine(folder.Path, "out")));
        var table = Regex.Match(html, "<table id=\"data-checks\">.*?</table>", RegexOptions.Singleline).Value;
        var rows = Regex.Matches(table, "<tr>(.*?)</tr>", RegexOptions.Singleline).Skip(1)
            .Select(r => Regex.Matches(r.Groups[1].Value, "<td[^>]*>(.*?)</td>").Select(c => System.Net.WebUtility.HtmlDecode(c.Groups[1].Value)).ToList()).ToList();

        // By hand: one duplicate (line 5 of line 4), two short rows (lines 7 and 9), the first one as the example.
        var duplicate = rows.Single(r => r[0] == "duplicate rows dropped");
        Assert.AreEqual("1", duplicate[1]);
        StringAssert.Contains(duplicate[2], "events.csv:5");
        StringAssert.Contains(duplicate[2], "repeats line 4");
        var skipped = rows.Single(r => r[0].StartsWith("skipped", StringComparison.Ordinal));
        Assert.AreEqual("2", skipped[1]);
        StringAssert.Contains(skipped[2], "events.csv:7");

        // Each row is the store's, read with SQL; the JSON report carries the same.
        using var connection = new SqliteConnection($"Data Source={database};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT kind, count, example_file, example_line, example FROM data_issues WHERE run_id = $run";
        command.Parameters.AddWithValue("$run", details.Run.Id);
        using var reader = command.ExecuteReader();
        var stored = 0;
        while (reader.Read())
        {
            var row = rows.Single(r => r[0] == reader.GetString(0));
            Assert.AreEqual(reader.GetInt64(1).ToString("N0", CultureInfo.InvariantCulture), row[1]);
            Assert.AreEqual($"{reader.GetString(2)}:{reader.GetInt64(3)} {reader.GetString(4)}", row[2]);
            stored++;
        }
        Assert.AreEqual(rows.Count, stored);
        var json = JsonDocument.Parse(File.ReadAllText(ReportWriter.Write(details, "json", Path.Combine(folder.Path, "out")))).RootElement;
        Assert.AreEqual(2, json.GetProperty("dataChecks").EnumerateArray().Single(i => i.GetProperty("kind").GetString()!.StartsWith("skipped", StringComparison.Ordinal)).GetProperty("count").GetInt64());
    }
}
