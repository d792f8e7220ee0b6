using System.Text.Json;
using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Ctr;
using Experiments.Datasets;
using Experiments.Datasets.Loading;
using Experiments.Datasets.Splitting;
using Experiments.Evaluation.Classification;

namespace Experiments.Runs;

public sealed record CtrBenchmarkRow(string Model, int Seed, double Auc, double LogLoss);

public sealed record CtrBenchmarkSummary(string Model, double MeanAuc, double AucSd, double MeanLogLoss, int Splits);

/// <summary>
/// `experiments bench ctr`: our click models and two peers (XGBoost, scikit-learn logistic regression, run by
/// experiments/benchmarks/peers/ctr_peers.py with Debian's Python) on the same seeded stratified 80/20 splits.
/// </summary>
public static class CtrBenchmark
{
    public static (List<CtrBenchmarkRow> Rows, List<CtrBenchmarkSummary> Summary) Run(string datasetName, string table, bool dropDuplicates,
        IReadOnlyList<string> models, int seeds, string? peersScript, IProgress<string>? progress = null)
    {
        var dataset = new DatasetLoader().Open(new DatasetRequest(datasetName) { Duplicates = dropDuplicates ? DuplicatePolicy.Drop : DuplicatePolicy.Keep });
        var data = dataset.Table(table);
        var log = ClickLog.From(data);
        var rows = new List<CtrBenchmarkRow>();
        var splits = Enumerable.Range(1, seeds).Select(seed => (Seed: seed, Split: RowSplitter.Stratified(log.Labels.Select(l => l ? 1 : 0).ToArray(), 0.2, 0, seed))).ToList();
        foreach (var (seed, split) in splits)
        {
            var train = log.Subset(split.Train);
            var test = log.Subset(split.Test);
            foreach (var model in models)
            {
                var p = CtrTrainer.Fit(train, CtrCatalog.Options(model, new Dictionary<string, object>(), seed)).Predict(test);
                rows.Add(new CtrBenchmarkRow(model, seed, BinaryMetrics.RocAuc(test.Labels, p), BinaryMetrics.LogLoss(test.Labels, p)));
                progress?.Report($"seed {seed} {model}: AUC {rows[^1].Auc:F3}");
            }
        }
        if (peersScript is not null)
        {
            var folder = ((FileDataset)dataset).Folder;
            var request = new
            {
                file = Path.Combine(folder, dataset.Manifest.FindTable(table)!.File!),
                dropDuplicates,
                label = log.Schema.Label,
                numeric = log.Schema.Numeric,
                categorical = log.Schema.Categorical,
                splits = splits.Select(s => new { seed = s.Seed, train = s.Split.Train, test = s.Split.Test }),
            };
            foreach (var peer in PythonPeers.Run(peersScript, JsonSerializer.Serialize(request)).EnumerateArray())
                rows.Add(new CtrBenchmarkRow(peer.GetProperty("peer").GetString()!, peer.GetProperty("seed").GetInt32(), peer.GetProperty("auc").GetDouble(), peer.GetProperty("logLoss").GetDouble()));
        }
        var summary = rows.GroupBy(r => r.Model).Select(g =>
        {
            var auc = g.Select(r => r.Auc).ToList();
            var mean = auc.Average();
            return new CtrBenchmarkSummary(g.Key, mean, Math.Sqrt(auc.Sum(a => (a - mean) * (a - mean)) / Math.Max(1, auc.Count - 1)), g.Average(r => r.LogLoss), auc.Count);
        }).OrderByDescending(s => s.MeanAuc).ToList();
        return (rows, summary);
    }
}
