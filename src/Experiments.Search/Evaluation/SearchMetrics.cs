namespace Experiments.Search.Evaluation;

/// <summary>How a grade g becomes a gain in DCG: exponential 2^g − 1 (Burges et al.; rewards the best grades most) or linear g (scikit-learn's ndcg_score).</summary>
public enum Gain { Exponential, Linear }

/// <summary>
/// Per-query metrics of one ranked list from its products' grades (in list order) and the query's best grades. A
/// product counts as relevant for the binary metrics (precision, recall, MRR) when its grade is at least the threshold.
/// Missing positions (a list shorter than K) count as misses. Formulas: docs/search.md.
/// </summary>
public static class SearchMetrics
{
    public static readonly IReadOnlyList<string> Gains = ["exponential", "linear"];

    public static Gain ParseGain(string name) => name == "linear" ? Gain.Linear : Gain.Exponential;

    public static double GainOf(double grade, Gain gain) => gain == Gain.Linear ? grade : Math.Pow(2, grade) - 1;

    /// <summary>DCG@K of the list over DCG@K of the ideal list (the best grades in order); 0 when no product is relevant.</summary>
    public static double Ndcg(ReadOnlySpan<double> grades, ReadOnlySpan<double> bestGrades, int k, Gain gain)
    {
        double Dcg(ReadOnlySpan<double> g)
        {
            var sum = 0.0;
            for (var i = 0; i < Math.Min(k, g.Length); i++) sum += GainOf(g[i], gain) / Math.Log2(i + 2);
            return sum;
        }
        var ideal = Dcg(bestGrades);
        return ideal == 0 ? 0 : Dcg(grades) / ideal;
    }

    public static double Precision(ReadOnlySpan<double> grades, int k, double threshold) => (double)Hits(grades, k, threshold) / k;

    /// <summary>Relevant products in the top K over all the query's relevant products (0 when it has none).</summary>
    public static double Recall(ReadOnlySpan<double> grades, int relevant, int k, double threshold) => relevant == 0 ? 0 : (double)Hits(grades, k, threshold) / relevant;

    public static double ReciprocalRank(ReadOnlySpan<double> grades, int k, double threshold)
    {
        for (var i = 0; i < Math.Min(k, grades.Length); i++)
            if (grades[i] >= threshold) return 1.0 / (i + 1);
        return 0;
    }

    private static int Hits(ReadOnlySpan<double> grades, int k, double threshold)
    {
        var hits = 0;
        for (var i = 0; i < Math.Min(k, grades.Length); i++)
            if (grades[i] >= threshold) hits++;
        return hits;
    }
}
