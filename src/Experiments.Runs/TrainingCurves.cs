using Experiments.Recommenders;
using Experiments.Store;
using Experiments.Text;

namespace Experiments.Runs;

/// <summary>
/// Training curves a run records for its report: each iteration's RMSEs from trainers that report them
/// (<see cref="IIterationReporter"/>), an encoder's loss and validation score per epoch.
/// </summary>
internal sealed class TrainingCurves
{
    private readonly List<(string Name, List<(double X, double Y)> Points)> _series = [];
    private int _last;
    private int _phase;

    /// <summary>Listens to <paramref name="trainer"/>'s iterations, if it reports them.</summary>
    public static TrainingCurves? Listen(IRecommenderTrainer trainer)
    {
        if (trainer is not IIterationReporter reporter) return null;
        var curves = new TrainingCurves();
        reporter.IterationFinished += curves.Iteration;
        return curves;
    }

    /// <summary>
    /// One iteration. Early stopping without a split's validation rows fits twice — on part of the training pairs,
    /// watching the held-out rest, then on all of them for the best number of iterations — so a restart at iteration 1
    /// begins the refit's own curve.
    /// </summary>
    private void Iteration(int iteration, double trainRmse, double validationRmse)
    {
        lock (_series)
        {
            if (iteration <= _last) _phase++;
            _last = iteration;
            var suffix = _phase == 0 ? "" : " (refit on all training pairs)";
            Add("training RMSE" + suffix, iteration, trainRmse);
            if (!double.IsNaN(validationRmse)) Add("validation RMSE" + suffix, iteration, validationRmse);
        }
    }

    private void Add(string name, double x, double y)
    {
        var series = _series.FirstOrDefault(s => s.Name == name).Points;
        if (series is null) _series.Add((name, series = []));
        series.Add((x, y));
    }

    public IReadOnlyList<CurveRecord> Records(long? trialId, string split)
    {
        lock (_series) return _series.Select(s => Record(trialId, split, s.Name, s.Points)).ToList();
    }

    /// <summary>An encoder's epochs: its training loss, and its validation score where it had validation rows.</summary>
    public static IReadOnlyList<CurveRecord> Encoder(string encoder, string split, IReadOnlyList<EpochReport> epochs)
    {
        var records = new List<CurveRecord> { Record(null, split, $"encoder {encoder}: training loss", epochs.Select(e => ((double)e.Epoch, e.TrainLoss)).ToList()) };
        var validated = epochs.Where(e => e.ValidationScore is not null).Select(e => ((double)e.Epoch, e.ValidationScore!.Value)).ToList();
        if (validated.Count > 0) records.Add(Record(null, split, $"encoder {encoder}: validation score", validated));
        return records;
    }

    private static CurveRecord Record(long? trialId, string split, string name, IReadOnlyList<(double X, double Y)> points) =>
        new(trialId, split, CurveKinds.Training, name, points.Select(p => p.X).ToList(), points.Select(p => p.Y).ToList());
}
