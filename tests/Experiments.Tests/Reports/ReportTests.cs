using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Reports;
using Experiments.Runs;
using Experiments.Store;
using Microsoft.Data.Sqlite;

namespace Experiments.Tests.Reports;

/// <summary>
/// Reports open in headless Chromium with the network cut off: no script error, no request, every chart drawn; the
/// HTML is well-formed; every number in the tables and the JSON equals the store's, read here with SQL.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed partial class ReportTests
{
    private static readonly Dictionary<string, double> SmallShop = new() { ["users"] = 300, ["items"] = 200, ["seed"] = 3 };

    private static RunDetails Run(SqliteRunStore store, string folder, ExperimentDefinition definition)
    {
        var outcome = new ExperimentRunner(store).Run(definition, new RunOptions { ReportDirectory = folder });
        Assert.AreEqual(RunStatus.Finished, outcome.Status, outcome.Error);
        return store.GetRun(outcome.RunId);
    }

    /// <summary>Top-10 lists from the demo shop's ratings, so that matrix factorisation (which needs ratings) records its training curve.</summary>
    private static ExperimentDefinition Ranking(int seed = 42) => ExperimentBuilder.Create("ranking").ForTask("ranking")
        .OnDataset("demo-shop", d => d with { Table = "ratings", Options = SmallShop })
        .Split("stratified", 0.2)
        .AddModel("random").AddModel("most-popular").AddModel("item-knn", p => p["neighbours"] = 30)
        .AddModel("matrix-factorization", p => { p["iterations"] = 4L; p["rank"] = 8L; })
        .WithMetrics("ndcg@10", "recall@5", "coverage@10")
        .WithEvaluation(e => e with { BootstrapSamples = 50 })
        .WithSeed(seed)
        .Build(Platform.Vocabulary);

    /// <summary>Headless Chromium, which CI installs: inconclusive on a developer's machine without it, a failure in CI.</summary>
    private static Chromium Browser()
    {
        if (Chromium.TryFind() is { } chromium) return chromium;
        const string message = "Chromium is not installed (Debian: apt-get install chromium; .ci/run installs it).";
        if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail(message);
        Assert.Inconclusive(message);
        throw new InvalidOperationException();
    }

    /// <summary>What the page did once loaded, as a script injected before everything else records it.</summary>
    private sealed record PageProbe(string[] Errors, int[] Drawn, string[] Requests, int Figures);

    private const string ProbeScript = """
        <script>
        window.__errors = [];
        window.addEventListener('error', function (e) { window.__errors.push(String(e.message)); });
        window.addEventListener('load', function () { setTimeout(function () {
          var drawn = [];
          document.querySelectorAll('figure.chart').forEach(function (f) {
            // SVG marks, heatmap images, and WebGL canvases (parallel coordinates) with painted pixels.
            var painted = 0;
            f.querySelectorAll('.js-plotly-plot canvas').forEach(function (c) {
              if (!c.width || !c.height) return;
              var copy = document.createElement('canvas'); copy.width = c.width; copy.height = c.height;
              var context = copy.getContext('2d'); context.drawImage(c, 0, 0);
              var pixels = context.getImageData(0, 0, c.width, c.height).data;
              for (var i = 3; i < pixels.length; i += 4) if (pixels[i]) { painted++; return; }
            });
            drawn.push(f.querySelectorAll('.js-plotly-plot .trace path[d]:not([d=""]), .js-plotly-plot .hm image').length + painted);
          });
          var requests = performance.getEntriesByType('resource').map(function (r) { return r.name; });
          document.body.setAttribute('data-probe', JSON.stringify({ errors: window.__errors, drawn: drawn, requests: requests, figures: document.querySelectorAll('figure.chart').length }));
        }, 200); });
        </script>
        """;

    /// <summary>Opens the report in Chromium (every host unresolvable) and reads what the probe recorded.</summary>
    private static PageProbe Open(Chromium chromium, string html)
    {
        var probed = Path.Combine(Path.GetDirectoryName(html)!, "probed-" + Path.GetFileName(html));
        var text = File.ReadAllText(html);
        File.WriteAllText(probed, text.Insert(text.IndexOf("<head>", StringComparison.Ordinal) + "<head>".Length, ProbeScript));
        var dom = chromium.DumpDom(probed);
        var match = ProbeAttribute().Match(dom);
        Assert.IsTrue(match.Success, "the probe ran after the page loaded");
        return JsonSerializer.Deserialize<PageProbe>(System.Net.WebUtility.HtmlDecode(match.Groups[1].Value), new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!;
    }

    [GeneratedRegex("data-probe=\"([^\"]*)\"")]
    private static partial Regex ProbeAttribute();

    /// <summary>Every chart drawn, no error, no request; the figures the HTML holds are the ones the page shows.</summary>
    private static void AssertRenders(Chromium chromium, string html, int atLeast)
    {
        var probe = Open(chromium, html);
        Assert.IsEmpty(probe.Errors, string.Join("\n", probe.Errors));
        Assert.IsEmpty(probe.Requests, "the page loads nothing: " + string.Join(", ", probe.Requests));
        Assert.AreEqual(Regex.Count(File.ReadAllText(html), "<figure id=\"chart-"), probe.Figures);
        Assert.IsGreaterThanOrEqualTo(atLeast, probe.Figures);
        for (var i = 0; i < probe.Drawn.Length; i++) Assert.IsGreaterThan(0, probe.Drawn[i], $"chart {i + 1} has drawn marks");
        AssertWellFormed(html);
    }

    /// <summary>Python's HTML parser (an independent one) finds every element closed in order, and no markup outside html.</summary>
    private static void AssertWellFormed(string html)
    {
        const string script = """
            import sys
            from html.parser import HTMLParser
            VOID = {'area','base','br','col','embed','hr','img','input','link','meta','source','track','wbr'}
            class Check(HTMLParser):
                def __init__(self):
                    super().__init__(); self.stack = []; self.problems = []
                def handle_starttag(self, tag, attrs):
                    if tag not in VOID: self.stack.append(tag)
                def handle_endtag(self, tag):
                    if not self.stack or self.stack[-1] != tag: self.problems.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'} at {self.getpos()}")
                    else: self.stack.pop()
            c = Check(); c.feed(open(sys.argv[1], encoding='utf-8').read()); c.close()
            if c.stack: c.problems.append('unclosed: ' + ' '.join(c.stack))
            print('\n'.join(c.problems[:5]) or 'ok')
            """;
        var start = new System.Diagnostics.ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(html);
        using var process = System.Diagnostics.Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        Assert.AreEqual("ok", output, process.StandardError.ReadToEnd());
    }

    /// <summary>The store's metric values, by (model, metric label), read with SQL rather than through the store's code.</summary>
    private static Dictionary<(string Model, string Metric), (double Value, double? Lower, double? Upper)> StoredMetrics(string database, long runId)
    {
        using var connection = new SqliteConnection($"Data Source={database};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT t.model_name, m.name, m.k, m.value, m.lower, m.upper FROM metrics m JOIN trials t ON t.id = m.trial_id WHERE m.run_id = $run";
        command.Parameters.AddWithValue("$run", runId);
        using var reader = command.ExecuteReader();
        var values = new Dictionary<(string, string), (double, double?, double?)>();
        while (reader.Read())
            values[(reader.GetString(0), reader.IsDBNull(2) ? reader.GetString(1) : $"{reader.GetString(1)}@{reader.GetInt32(2)}")] =
                (reader.GetDouble(3), reader.IsDBNull(4) ? null : reader.GetDouble(4), reader.IsDBNull(5) ? null : reader.GetDouble(5));
        return values;
    }

    [TestMethod]
    public void A_chromium_that_cannot_start_is_a_clear_error_not_a_crash()
    {
        using var folder = new TempFolder();
        // A file that exists but is not executable (what a wrong EXPERIMENTS_CHROMIUM often names).
        var broken = new Chromium(folder.File("chromium", "not a program"));
        var error = Assert.ThrowsExactly<ExperimentsException>(() => broken.PrintToPdf(folder.File("r.html", "<html></html>"), Path.Combine(folder.Path, "r.pdf")));
        StringAssert.Contains(error.Message, "could not be started");
        StringAssert.Contains(error.Message, "EXPERIMENTS_CHROMIUM");
    }

    [TestMethod]
    public void A_ranking_report_renders_offline_and_its_numbers_are_the_stores()
    {
        var chromium = Browser();
        using var folder = new TempFolder();
        var database = Path.Combine(folder.Path, "runs.db");
        using var store = SqliteRunStore.Open(database);
        var details = Run(store, folder.Path, Ranking());
        var out_ = Path.Combine(folder.Path, "out");
        var html = ReportWriter.Write(details, "html", out_);
        // 3 metric bar charts, 4 metric@K curves, the popularity view, matrix factorisation's training curve.
        AssertRenders(chromium, html, atLeast: 9);
        var page = File.ReadAllText(html);
        Assert.IsFalse(Regex.IsMatch(page, "<script[^>]*\\ssrc="), "plotly.js is inline, not linked");
        StringAssert.Contains(page, "<script type=\"text/javascript\">/**\n* plotly.js v", "plotly.js is inlined once in the head");

        var stored = StoredMetrics(database, details.Run.Id);
        // The leaderboard's cells: data-value is the store's number exactly, the text its 4-decimal rounding.
        var leaderboard = Regex.Match(page, "<table id=\"leaderboard\">.*?</table>", RegexOptions.Singleline).Value;
        var rows = Regex.Matches(leaderboard, "<tr>(.*?)</tr>", RegexOptions.Singleline).Skip(1).ToList();
        Assert.HasCount(4, rows);
        var metrics = new[] { "ndcg@10", "recall@5", "coverage@10" };
        foreach (var row in rows)
        {
            var cells = Regex.Matches(row.Groups[1].Value, "<td[^>]*>(.*?)</td>").Select(m => m.Value).ToList();
            var model = Regex.Replace(cells[1], "<.*?>", "");
            for (var m = 0; m < metrics.Length; m++)
            {
                var cell = Regex.Match(cells[4 + m], "data-value=\"([^\"]+)\">([0-9.]+)");
                var expected = stored[(model, metrics[m])];
                Assert.AreEqual(expected.Value, double.Parse(cell.Groups[1].Value, CultureInfo.InvariantCulture), $"{model} {metrics[m]}");
                Assert.AreEqual(expected.Value.ToString("F4", CultureInfo.InvariantCulture), cell.Groups[2].Value);
            }
        }
        // Ranked by ndcg@10, best first.
        var order = rows.Select(r => Regex.Replace(Regex.Matches(r.Groups[1].Value, "<td[^>]*>(.*?)</td>")[1].Value, "<.*?>", "")).ToList();
        CollectionAssert.AreEqual(stored.Where(s => s.Key.Metric == "ndcg@10").OrderByDescending(s => s.Value.Value).Select(s => s.Key.Model).ToList(), order);

        // The JSON report: the same numbers, the definition as an object, the winner's lift over the baseline (random) by hand.
        var json = JsonDocument.Parse(File.ReadAllText(ReportWriter.Write(details, "json", out_))).RootElement;
        Assert.AreEqual(JsonValueKind.Object, json.GetProperty("definition").ValueKind);
        Assert.AreEqual("ranking", json.GetProperty("definition").GetProperty("task").GetString());
        foreach (var row in json.GetProperty("leaderboard").EnumerateArray())
            foreach (var metric in metrics)
            {
                var cell = row.GetProperty("metrics").GetProperty(metric);
                var expected = stored[(row.GetProperty("model").GetString()!, metric)];
                Assert.AreEqual(expected.Value, cell.GetProperty("value").GetDouble());
                Assert.AreEqual(expected.Lower, cell.GetProperty("lower").ValueKind == JsonValueKind.Null ? null : cell.GetProperty("lower").GetDouble());
            }
        var summary = json.GetProperty("summary");
        var winner = order[0];
        var (best, baseline) = (stored[(winner, "ndcg@10")].Value, stored[("random", "ndcg@10")].Value);
        Assert.AreEqual(winner, summary.GetProperty("winner").GetString());
        Assert.AreEqual("random", summary.GetProperty("baseline").GetString());
        Assert.AreEqual(100 * (best - baseline) / baseline, summary.GetProperty("liftPercent").GetDouble(), 1e-9);
        using (var connection = new SqliteConnection($"Data Source={database};Mode=ReadOnly;Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT lower, upper, p_holm FROM comparisons WHERE run_id = $run AND model = $model AND metric = 'ndcg@10'";
            command.Parameters.AddWithValue("$run", details.Run.Id);
            command.Parameters.AddWithValue("$model", winner);
            using var reader = command.ExecuteReader();
            Assert.IsTrue(reader.Read());
            Assert.AreEqual(100 * reader.GetDouble(0) / baseline, summary.GetProperty("liftLowerPercent").GetDouble(), 1e-9);
            Assert.AreEqual(100 * reader.GetDouble(1) / baseline, summary.GetProperty("liftUpperPercent").GetDouble(), 1e-9);
            Assert.AreEqual(reader.GetDouble(2), summary.GetProperty("holmP").GetDouble());
            Assert.AreEqual(reader.GetDouble(2) < 0.05, summary.GetProperty("significant").GetBoolean());
        }
        StringAssert.Contains(summary.GetProperty("headline").GetString()!, $"{winner} wins on ndcg@10 with {best.ToString("F4", CultureInfo.InvariantCulture)}");

        // The metric@K curve at K = 10 is the leaderboard's ndcg@10; the training curve has matrix factorisation's iterations.
        var curves = json.GetProperty("curves").EnumerateArray().ToList();
        var trials = details.Trials.ToDictionary(t => t.Id, t => t.ModelName);
        foreach (var curve in curves.Where(c => c.GetProperty("kind").GetString() == CurveKinds.MetricAtK && c.GetProperty("name").GetString() == "ndcg"))
            Assert.AreEqual(stored[(trials[curve.GetProperty("trialId").GetInt64()], "ndcg@10")].Value, curve.GetProperty("y")[9].GetDouble(), 1e-12);
        Assert.IsTrue(curves.Any(c => c.GetProperty("kind").GetString() == CurveKinds.Training && c.GetProperty("name").GetString() == "training RMSE"));

        // Markdown: the same tables, the charts as links into the HTML report.
        var markdown = File.ReadAllText(ReportWriter.Write(details, "markdown", out_));
        StringAssert.Contains(markdown, "- Chart: [ndcg@10](report.html#chart-1)");
        StringAssert.Contains(markdown, $"| 1 | {winner} |");
    }

    [TestMethod]
    public void A_click_model_report_draws_roc_pr_calibration_confusion_and_importance()
    {
        var chromium = Browser();
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var details = Run(store, folder.Path, ExperimentBuilder.Create("clicks").ForTask("classification")
            .OnDataset("demo-shop", d => d with { Table = "clicks", Options = new Dictionary<string, double> { ["users"] = 200, ["items"] = 150, ["seed"] = 3 } })
            .Split("stratified", 0.25).AddModel("logistic-regression").AddModel("sdca")
            .WithMetrics("auc", "log-loss").WithEvaluation(e => e with { BootstrapSamples = 50 }).Build(Platform.Vocabulary));
        var html = ReportWriter.Write(details, "html", Path.Combine(folder.Path, "out"));
        var page = File.ReadAllText(html);
        foreach (var title in new[] { "ROC", "Precision–recall", "Calibration", "Confusion matrix: logistic-regression", "Feature importance: logistic-regression" })
            StringAssert.Contains(page, $"<figcaption>{System.Net.WebUtility.HtmlEncode(title)}");
        AssertRenders(chromium, html, atLeast: 9);
        // The confusion table's counts are the store's, and they add up to the test rows.
        var confusion = details.Curves.Single(c => c.Kind == CurveKinds.Confusion && c.TrialId == details.Trials[0].Id);
        // The table lists the models best first: the row of the first trial's model.
        var table = Regex.Match(page, "<table id=\"confusion\">.*?</table>", RegexOptions.Singleline).Value;
        var row = Regex.Matches(table, "<tr[^>]*>.*?</tr>", RegexOptions.Singleline).Select(m => m.Value).Single(r => r.Contains($">{details.Trials[0].ModelName}<", StringComparison.Ordinal));
        var counts = Regex.Matches(row, "data-value=\"([^\"]+)\"").Take(4).Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToArray();
        CollectionAssert.AreEqual(confusion.Z!.ToArray(), counts);
        Assert.AreEqual(details.Trials[0].Metrics.Single(m => m.Name == "auc").Users, (int)counts.Sum());
    }

    [TestMethod]
    public void Comparison_trend_and_pdf_reports_render()
    {
        var chromium = Browser();
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var first = Run(store, folder.Path, Ranking());
        var again = Run(store, folder.Path, Ranking());
        var otherSplit = Run(store, folder.Path, Ranking(seed: 7));
        var out_ = Path.Combine(folder.Path, "out");

        // The same split: paired tests, model by model; another seed's split: a note instead of a test.
        var comparison = RunSetReports.Compare(store, [first, again, otherSplit]);
        Assert.IsTrue(comparison.Paired.Any(c => c.Model == "item-knn (run 2)" && c.Metric == "ndcg@10"));
        Assert.AreEqual(0, comparison.Paired.Single(c => c.Model == "item-knn (run 2)" && c.Metric == "ndcg@10").Difference, "the same definition, data and seed");
        Assert.IsTrue(comparison.Notes.Any(n => n.Contains("Run 3 against run 1") && n.Contains("seed 42 and seed 7 cut different splits")), string.Join("\n", comparison.Notes));
        var html = ReportWriter.WriteDocument("html", out_, "compare", () => RunSetReports.Document(comparison), () => JsonSerializer.Serialize(comparison, ReportWriter.JsonOptions));
        AssertRenders(chromium, html, atLeast: 3);

        var trend = RunSetReports.Trend(store, "ranking");
        Assert.HasCount(3, trend.Runs);
        CollectionAssert.AreEqual(new[] { first.Run.Id, again.Run.Id, otherSplit.Run.Id }, trend.Runs.Select(r => r.Run).ToArray());
        var trendHtml = ReportWriter.WriteDocument("html", out_, "trend", () => RunSetReports.Document(trend), () => "");
        AssertRenders(chromium, trendHtml, atLeast: 3);
        StringAssert.Contains(File.ReadAllText(trendHtml), first.Run.DataFingerprint!);
        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => RunSetReports.Trend(store, "nothing")).Message, "no runs of experiment 'nothing'");

        var pdf = ReportWriter.Write(first, "pdf", out_);
        var head = new byte[5];
        using (var stream = File.OpenRead(pdf)) stream.ReadExactly(head);
        Assert.AreEqual("%PDF-", System.Text.Encoding.ASCII.GetString(head));
        Assert.IsGreaterThan(20_000, new FileInfo(pdf).Length, "the charts are printed, not just text");
    }
}
