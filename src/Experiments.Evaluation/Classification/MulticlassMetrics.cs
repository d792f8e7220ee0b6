namespace Experiments.Evaluation.Classification;

/// <summary>Precision, recall, F1 and support of one class.</summary>
public sealed record ClassScores(int Class, double Precision, double Recall, double F1, long Support);

/// <summary>
/// Multiclass metrics from true and predicted class indices (0..classes−1). Averages follow scikit-learn:
/// macro = unweighted mean over classes; weighted = mean weighted by support; micro = from global counts (equal to
/// accuracy when every row has one label). A class never predicted has precision 0 (zero_division=0).
/// </summary>
public sealed class MulticlassMetrics
{
    public MulticlassMetrics(ReadOnlySpan<int> truth, ReadOnlySpan<int> predicted, int classes)
    {
        if (truth.Length != predicted.Length) throw new ArgumentException("Truth and predictions differ in length.");
        Classes = classes;
        Confusion = new long[classes, classes];
        for (var i = 0; i < truth.Length; i++) Confusion[truth[i], predicted[i]]++;
        Count = truth.Length;
    }

    public int Classes { get; }
    /// <summary>Confusion[true, predicted].</summary>
    public long[,] Confusion { get; }
    public long Count { get; }

    public double Accuracy
    {
        get
        {
            long correct = 0;
            for (var c = 0; c < Classes; c++) correct += Confusion[c, c];
            return Count == 0 ? 0 : (double)correct / Count;
        }
    }

    public IReadOnlyList<ClassScores> PerClass()
    {
        var scores = new List<ClassScores>(Classes);
        for (var c = 0; c < Classes; c++)
        {
            long predicted = 0, actual = 0;
            for (var k = 0; k < Classes; k++)
            {
                predicted += Confusion[k, c];
                actual += Confusion[c, k];
            }
            var tp = Confusion[c, c];
            var precision = predicted == 0 ? 0 : (double)tp / predicted;
            var recall = actual == 0 ? 0 : (double)tp / actual;
            var f1 = tp == 0 ? 0 : 2.0 * tp / (predicted + actual);
            scores.Add(new ClassScores(c, precision, recall, f1, actual));
        }
        return scores;
    }

    public (double Precision, double Recall, double F1) Macro()
    {
        var per = PerClass();
        return (per.Average(s => s.Precision), per.Average(s => s.Recall), per.Average(s => s.F1));
    }

    public (double Precision, double Recall, double F1) Weighted()
    {
        var per = PerClass();
        double total = per.Sum(s => s.Support);
        return (per.Sum(s => s.Precision * s.Support) / total, per.Sum(s => s.Recall * s.Support) / total, per.Sum(s => s.F1 * s.Support) / total);
    }

    /// <summary>Micro averages pool the counts of all classes; with one label per row all three equal accuracy.</summary>
    public (double Precision, double Recall, double F1) Micro() => (Accuracy, Accuracy, Accuracy);

    /// <summary>Mean negative log-probability of the true class; rows of <paramref name="probabilities"/> are renormalised and clipped at 1e-15.</summary>
    public static double LogLoss(ReadOnlySpan<int> truth, double[][] probabilities)
    {
        const double epsilon = 1e-15;
        var sum = 0.0;
        for (var i = 0; i < truth.Length; i++)
        {
            var row = probabilities[i];
            var total = row.Sum();
            sum -= Math.Log(Math.Clamp(row[truth[i]] / total, epsilon, 1 - epsilon));
        }
        return sum / truth.Length;
    }
}
