using System.Diagnostics;
using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Datasets;
using Experiments.Evaluation.Statistics;
using Experiments.Reports;
using Experiments.Search;
using Experiments.Search.Data;
using Experiments.Search.Retrieval;
using Experiments.Store;

namespace Experiments.Runs;

/// <summary>One model's row: each metric's value and interval.</summary>
public sealed record SearchBenchmarkRow(string Model, IReadOnlyDictionary<string, MetricCell> Cells, double FitSeconds);

/// <summary>A paired test of two models over the same test queries: B − A on one metric.</summary>
public sealed record SearchBenchmarkComparison(string Metric, string A, string B, double Difference, double Lower, double Upper, double PValue, int Queries, int? Resamples);

/// <summary>Indexing rate and single-query latency over the whole catalogue.</summary>
public sealed record SearchSpeed(string Retriever, int Products, double IndexSeconds, double ProductsPerSecond, int Queries, double P50Milliseconds, double P95Milliseconds);

public sealed record SearchBenchmarkResult(string Experiment, string Dataset, string Protocol, IReadOnlyList<SearchBenchmarkRow> Rows, IReadOnlyList<SearchBenchmarkComparison> Comparisons,
    IReadOnlyList<SearchSpeed> Speed, string Machine);

/// <summary>
/// `experiments bench search`: runs a search definition (retrievers and re-ranker side by side, intervals over test
/// queries), tests <paramref name="challenger"/> against every other ranker on the same queries (paired bootstrap
/// interval, sign-flip permutation p-value), and times BM25 and the dense retriever over the whole catalogue: indexing
/// (products per second) and one query at a time (p50, p95 latency).
/// </summary>
public static class SearchBenchmark
{
    public static SearchBenchmarkResult Run(string definitionFile, string challenger, int latencyQueries, string? dataDirectory = null, IRunObserver? observer = null, CancellationToken cancel = default)
    {
        var definition = Platform.Reader.ReadFile(definitionFile);
        if (definition.Task != Evaluation.MetricCatalog.Search) throw new ExperimentsException($"{definitionFile}: `bench search` runs task 'search' definitions, not '{definition.Task}'.");
        var folder = Path.Combine(Path.GetTempPath(), "experiments-bench-search", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            using var store = SqliteRunStore.Open(Path.Combine(folder, "bench.db"));
            var outcome = new ExperimentRunner(store).Run(definition with { Output = definition.Output with { Formats = [] } },
                new RunOptions { DataDirectory = dataDirectory, ReportDirectory = folder, Observer = observer ?? SilentObserver.Instance }, cancel);
            if (outcome.Status != RunStatus.Finished) throw new ExperimentsException($"The benchmark run did not finish: {outcome.Error}");
            var details = store.GetRun(outcome.RunId);
            var table = ResultTable.From(details);
            var rows = table.Rows.Select(r => new SearchBenchmarkRow(r.Model, r.Cells, r.FitSeconds ?? 0)).ToList();
            var comparisons = Compare(store, details, challenger, definition);
            var speed = Speed(definition, dataDirectory, latencyQueries, cancel);
            return new SearchBenchmarkResult(definition.Name, definition.Dataset.Name, string.Join("; ", table.Protocols), rows, comparisons, speed, RunEnvironment.Machine);
        }
        finally
        {
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
    }

    private static List<SearchBenchmarkComparison> Compare(IRunStore store, RunDetails details, string challenger, ExperimentDefinition definition)
    {
        var trials = details.Trials.Where(t => t.Status == "finished" && SearchCatalog.IsRanker(t.ModelType)).ToList();
        var mine = trials.FirstOrDefault(t => t.ModelName == challenger)
                   ?? throw new ExperimentsException(DefinitionValidator.UnknownValue($"challenger model '{challenger}'", challenger, trials.Select(t => t.ModelName).ToList()));
        var values = store.GetUserValues(mine.Id)!;
        var result = new List<SearchBenchmarkComparison>();
        foreach (var other in trials.Where(t => t.Id != mine.Id && t.Split == mine.Split))
        {
            var theirs = store.GetUserValues(other.Id)!;
            var settings = new PairedSettings(definition.Evaluation.BootstrapSamples, definition.Evaluation.ConfidenceLevel, definition.Seed);
            foreach (var test in PairedComparison.Compare(values.Values.Keys.Select(MetricName.Parse).ToList(), theirs.Values, values.Values, settings))
                result.Add(new SearchBenchmarkComparison(test.Metric, other.ModelName, challenger, test.Difference, test.Lower, test.Upper, test.PValue, test.Units, test.Resamples));
        }
        return result;
    }

    /// <summary>BM25 with default settings and a dense retriever of the definition's first dense model's size (trained one epoch: latency depends on its shape, not its weights).</summary>
    private static List<SearchSpeed> Speed(ExperimentDefinition definition, string? dataDirectory, int queries, CancellationToken cancel)
    {
        var dataset = new DatasetLoader().Open(DatasetRequest.From(definition.Dataset, dataDirectory));
        var collection = SearchCollection.Load(dataset, dataset.Manifest.Search!, definition.Search?.Judgements, definition.Search?.MaxQueries ?? 0, definition.Seed);
        var catalogue = collection.Catalogue!;
        var sample = Enumerable.Range(0, collection.Queries.Count).Take(queries).ToArray();
        var speed = new List<SearchSpeed>();
        var clock = Stopwatch.StartNew();
        using var bm25 = new Bm25Index(catalogue, new Bm25Options { Language = SearchTask.LanguageOf(definition.Search, dataset.Manifest.Search!) });
        var indexSeconds = clock.Elapsed.TotalSeconds;
        speed.Add(Timed("bm25 (Lucene.NET)", catalogue.Count, indexSeconds, sample, q => bm25.Search(collection.Queries[q].Text, 10, collection.Queries[q].Excluded)));
        var model = definition.Models.FirstOrDefault(m => m.Type is SearchCatalog.Dense or SearchCatalog.Hybrid or SearchCatalog.Reranker);
        if (model is not null)
        {
            var parameters = new Dictionary<string, object>(model.Parameters) { ["epochs"] = 1L };
            var pairs = DenseTrainingPairs.Mine(collection, sample, 1, null, 1, definition.Seed);
            clock.Restart();
            var dense = DenseRetriever.Fit(catalogue, pairs, parameters, definition.Seed, cancel: cancel);
            // Indexing for the dense retriever is embedding the catalogue: time it alone, after training.
            clock.Restart();
            dense.Encoder.Embedder("timing").Embed(Enumerable.Range(0, catalogue.Count).Select(catalogue.Text).ToList());
            var embedSeconds = clock.Elapsed.TotalSeconds;
            speed.Add(Timed("dense (exact cosine)", catalogue.Count, embedSeconds, sample, q =>
                dense.Search(dense.Embed([collection.Queries[q].Text]), 10, [collection.Queries[q].Excluded])[0]));
        }
        return speed;
    }

    /// <summary>Each query alone, one after another (after two warm-up queries): the latency a single caller sees.</summary>
    private static SearchSpeed Timed(string name, int products, double indexSeconds, int[] queries, Func<int, Ranked> search)
    {
        foreach (var q in queries.Take(2)) search(q);
        var times = new double[queries.Length];
        var clock = new Stopwatch();
        for (var i = 0; i < queries.Length; i++)
        {
            clock.Restart();
            search(queries[i]);
            times[i] = clock.Elapsed.TotalMilliseconds;
        }
        Array.Sort(times);
        return new SearchSpeed(name, products, indexSeconds, products / indexSeconds, queries.Length, Quantiles.OfSorted(times, 0.5), Quantiles.OfSorted(times, 0.95));
    }
}
