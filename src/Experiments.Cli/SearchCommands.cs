using Experiments.Evaluation.Statistics;
using System.CommandLine;
using Experiments.Reports;
using Experiments.Runs;
using Spectre.Console;

namespace Experiments.Cli;

/// <summary>`bench search`: retrievers and re-ranker side by side on a search definition, paired tests, and search speed.</summary>
internal static class SearchCommands
{
    public static void Add(RootCommand root)
    {
        var bench = root.Subcommands.First(c => c.Name == "bench");
        var definition = new Argument<string>("definition") { Description = "A task 'search' definition, e.g. experiments/pricerunner-search.json." };
        var challenger = new Option<string>("--challenger") { Description = "The model tested against every other ranker (paired, over the same test queries).", DefaultValueFactory = _ => "reranker" };
        var latency = new Option<int>("--latency-queries") { Description = "Queries timed one at a time for p50/p95 latency.", DefaultValueFactory = _ => 500 };
        var search = new Command("search", "Product search: BM25, dense, hybrid and re-ranker side by side with intervals and paired tests; indexing rate and query latency.");
        search.Arguments.Add(definition);
        search.With(challenger, latency, CommonOptions.DataDir, CommonOptions.Json, CommonOptions.Quiet);
        search.SetAction((parse, cancel) => CommonOptions.Guarded(parse, output =>
        {
            var result = SearchBenchmark.Run(parse.GetValue(definition)!, parse.GetValue(challenger)!, parse.GetValue(latency), parse.GetValue(CommonOptions.DataDir), cancel: cancel);
            output.JsonResult(result);
            var metrics = result.Rows.SelectMany(r => r.Cells.Keys).Distinct().ToList();
            var table = new Table().Border(TableBorder.Rounded).AddColumns(["model", .. metrics, "fit (s)"]);
            foreach (var row in result.Rows)
                table.AddRow([Markup.Escape(row.Model), .. metrics.Select(m => row.Cells.TryGetValue(m, out var c) ? Markup.Escape(c.Format(3)) : "—"), $"{row.FitSeconds:F1}"]);
            table.Caption = new TableTitle(Markup.Escape(result.Protocol));
            output.Write(table);
            var tests = new Table().Border(TableBorder.Rounded).AddColumns("metric", "comparison", "difference (95% CI)", "p", "queries");
            foreach (var c in result.Comparisons)
                tests.AddRow(Markup.Escape(c.Metric), Markup.Escape($"{c.B} − {c.A}"), Markup.Escape($"{c.Difference:F4} [{c.Lower:F4}, {c.Upper:F4}]"), Markup.Escape(PValues.Format(c.PValue, c.Resamples)), c.Queries.ToString());
            output.Write(tests);
            var speed = new Table().Border(TableBorder.Rounded).AddColumns("retriever", "products", "indexing (products/s)", "queries", "p50 (ms)", "p95 (ms)");
            foreach (var s in result.Speed)
                speed.AddRow(Markup.Escape(s.Retriever), $"{s.Products:N0}", $"{s.ProductsPerSecond:N0}", s.Queries.ToString(), $"{s.P50Milliseconds:F2}", $"{s.P95Milliseconds:F2}");
            output.Write(speed);
            return Task.FromResult(ExitCodes.Success);
        }));
        bench.Subcommands.Add(search);
    }
}
