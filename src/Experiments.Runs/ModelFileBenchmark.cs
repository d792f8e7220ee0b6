using System.Diagnostics;
using Experiments.Core;
using Experiments.Datasets;
using Experiments.MLNet;
using Experiments.Recommenders;
using Experiments.Recommenders.Baselines;
using Experiments.Recommenders.Factorization;
using Experiments.Recommenders.MLNet;
using Microsoft.ML;

namespace Experiments.Runs;

/// <param name="Model">ease (whole catalogue) or matrix-factorization (ALS).</param>
/// <param name="ZipBytes">Size of the ML.NET model zip (<c>mlContext.Model.Save</c>).</param>
/// <param name="FileBytes">Size of the recommender's own file (<see cref="FittedRecommender.Save"/>).</param>
/// <param name="SameScores">Whether the loaded pipeline scored every rating's (user, item) pair with the same bits.</param>
public sealed record ModelFileBenchmarkRow(string Model, double FitSeconds, long ZipBytes, double ZipSaveSeconds, double ZipLoadSeconds,
    long FileBytes, double FileSaveSeconds, double FileLoadSeconds, bool SameScores);

/// <summary>
/// `experiments bench model-files`: how long saving and loading our recommenders takes and how large the files are,
/// in ML.NET's model zip and in the recommender's own file, on a real data set (medians of the repeats; every
/// load is checked to score the same bits).
/// </summary>
public static class ModelFileBenchmark
{
    private sealed class Row
    {
        public string UserId { get; set; } = "";
        public string ItemId { get; set; } = "";
        public float Label { get; set; }
    }

    private sealed class Scored
    {
        public float Score { get; set; }
    }

    public static IReadOnlyList<ModelFileBenchmarkRow> Run(string dataset, int repeats, IProgress<string>? progress = null, CancellationToken cancel = default)
    {
        if (repeats < 1) throw new ExperimentsException($"--repeats must be at least 1; it is {repeats}.");
        var data = new DatasetLoader().Open(new DatasetRequest(dataset)).Interactions();
        var rows = Enumerable.Range(0, data.Count).Select(r => new Row { UserId = data.Users[data.User[r]], ItemId = data.Items[data.Item[r]], Label = data.Rating[r] }).ToList();
        progress?.Report($"{dataset}: {data.Count:N0} rows, {data.Users.Count:N0} users, {data.Items.Count:N0} items");
        var folder = Directory.CreateTempSubdirectory("experiments-model-files-");
        try
        {
            var results = new List<ModelFileBenchmarkRow>();
            foreach (var model in new[] { "ease", "matrix-factorization" })
            {
                cancel.ThrowIfCancellationRequested();
                var ml = new MLContext(seed: 1);
                var view = ml.Data.LoadFromEnumerable(rows);
                IEstimator<ITransformer> recommender = model == "ease"
                    ? ml.Recommenders().Ease(new EaseOptions())
                    : ml.Recommenders().MatrixFactorization(new MatrixFactorizationOptions());
                var clock = Stopwatch.StartNew();
                var fitted = ml.Transforms.Conversion.MapValueToKey("UserId").Append(ml.Transforms.Conversion.MapValueToKey("ItemId")).Append(recommender).Fit(view);
                var fitSeconds = clock.Elapsed.TotalSeconds;
                var scores = Scores(ml, fitted, view);
                var own = ((IEnumerable<ITransformer>)fitted).OfType<RecommenderTransformer>().Single().Recommender;
                var zip = Path.Combine(folder.FullName, $"{model}.zip");
                var file = Path.Combine(folder.FullName, $"{model}.recommender");
                var timings = new List<(double ZipSave, double ZipLoad, double FileSave, double FileLoad)>();
                var same = true;
                for (var repeat = 0; repeat < repeats; repeat++)
                {
                    cancel.ThrowIfCancellationRequested();
                    clock.Restart();
                    ml.Model.SaveFile(fitted, view.Schema, zip, overwrite: true);
                    var zipSave = clock.Elapsed.TotalSeconds;
                    var fresh = new MLContext();
                    clock.Restart();
                    var loaded = fresh.Model.LoadFile(zip, out _);
                    var zipLoad = clock.Elapsed.TotalSeconds;
                    same &= System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(scores).SequenceEqual(System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(Scores(fresh, loaded, view)));
                    clock.Restart();
                    own.Save(file, overwrite: true);
                    var fileSave = clock.Elapsed.TotalSeconds;
                    clock.Restart();
                    FittedRecommender.Load(file);
                    var fileLoad = clock.Elapsed.TotalSeconds;
                    timings.Add((zipSave, zipLoad, fileSave, fileLoad));
                    progress?.Report($"{model} repeat {repeat + 1}: zip save {zipSave:F2} s, load {zipLoad:F2} s; own file save {fileSave:F2} s, load {fileLoad:F2} s");
                }
                results.Add(new ModelFileBenchmarkRow(model, fitSeconds, new FileInfo(zip).Length, Median(timings.Select(t => t.ZipSave)), Median(timings.Select(t => t.ZipLoad)),
                    new FileInfo(file).Length, Median(timings.Select(t => t.FileSave)), Median(timings.Select(t => t.FileLoad)), same));
            }
            return results;
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static float[] Scores(MLContext ml, ITransformer model, IDataView view) =>
        ml.Data.CreateEnumerable<Scored>(model.Transform(view), reuseRowObject: false).Select(s => s.Score).ToArray();

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
