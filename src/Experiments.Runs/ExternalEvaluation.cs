using System.Globalization;
using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Datasets.Loading;
using Experiments.Evaluation;
using Experiments.Evaluation.Classification;
using Experiments.Evaluation.Ranking;

namespace Experiments.Runs;

/// <summary>What `experiments evaluate` computed, and how.</summary>
public sealed record ExternalEvaluationResult(string Task, IReadOnlyList<MetricValue> Values, string Protocol, double? Threshold);

/// <summary>
/// Scores a predictions file made by any tool against a truth file with the same engine as our own models, so that
/// models trained elsewhere are compared on equal terms. Files are CSV with a header line; columns by position:
/// <list type="bullet">
/// <item>ranking: truth <c>user,item[,relevance]</c>, predictions <c>user,item,score</c> (each user's list ranked by score);</item>
/// <item>rating: truth <c>user,item,rating</c>, predictions <c>user,item,score</c>;</item>
/// <item>classification: truth <c>id,label</c>; predictions <c>id,score</c> (binary, labels 0/1) or <c>id,p_A,p_B,…</c>
/// with one probability column per class, named by the class (multiclass).</item>
/// </list>
/// </summary>
public static class ExternalEvaluation
{
    public static ExternalEvaluationResult Evaluate(string truthPath, string predictionsPath, IReadOnlyList<string> metricNames, EvaluationSpec spec, int seed,
        (string Truth, string Predictions)? validation = null)
    {
        var metrics = ParseMetrics(metricNames, out var task);
        return task switch
        {
            MetricCatalog.Ranking => Ranking(truthPath, predictionsPath, metrics, spec, seed),
            MetricCatalog.Rating => Rating(truthPath, predictionsPath, metrics, spec, seed),
            _ => Classification(truthPath, predictionsPath, metrics, spec, seed, validation),
        };
    }

    private static List<MetricName> ParseMetrics(IReadOnlyList<string> names, out string task)
    {
        if (names.Count == 0) throw new ExperimentsException("Name at least one metric, e.g. --metrics ndcg@10,recall@10 or --metrics auc,log-loss.");
        var metrics = new List<MetricName>();
        var tasks = new HashSet<string>();
        foreach (var text in names)
        {
            if (MetricName.Check(text, MetricCatalog.All) is { } problem) throw new ExperimentsException($"--metrics: {problem}");
            var metric = MetricName.Parse(text);
            var descriptor = MetricName.Find(MetricCatalog.All, metric)!;
            if (descriptor.Name is "diversity" or "novelty" or "popularity")
                throw new ExperimentsException($"--metrics: '{text}' needs item categories or the training data, which prediction files do not carry; compute it in an experiment.");
            tasks.Add(descriptor.Tasks[0]);
            metrics.Add(metric);
        }
        if (tasks.Count > 1) throw new ExperimentsException($"--metrics mixes tasks ({string.Join(", ", tasks)}); evaluate one task at a time.");
        task = tasks.Single();
        return metrics;
    }

    private static ExternalEvaluationResult Ranking(string truthPath, string predictionsPath, List<MetricName> metrics, EvaluationSpec spec, int seed)
    {
        var relevant = new Dictionary<string, Dictionary<string, double>>(StringComparer.Ordinal);
        foreach (var (line, fields) in Rows(truthPath, 2, 3))
        {
            var grade = fields.Length > 2 ? Number(truthPath, line, "relevance", fields[2]) : 1;
            if (spec.RelevanceThreshold is { } t && grade < t) continue;
            if (grade <= 0 && spec.GradedRelevance) continue;
            var items = relevant.TryGetValue(fields[0], out var found) ? found : relevant[fields[0]] = new(StringComparer.Ordinal);
            items[fields[1]] = spec.GradedRelevance ? grade : 1;
        }
        var predicted = new Dictionary<string, List<(string Item, double Score, long Line)>>(StringComparer.Ordinal);
        var seen = new HashSet<(string, string)>();
        var catalogue = new HashSet<string>(relevant.Values.SelectMany(v => v.Keys), StringComparer.Ordinal);
        foreach (var (line, fields) in Rows(predictionsPath, 3, 3))
        {
            if (!seen.Add((fields[0], fields[1])))
                throw new DataFileException(Path.GetFileName(predictionsPath), line, null, $"user '{fields[0]}' has item '{fields[1]}' twice; each user–item pair needs one score");
            var score = Number(predictionsPath, line, "score", fields[2]);
            (predicted.TryGetValue(fields[0], out var list) ? list : predicted[fields[0]] = []).Add((fields[1], score, line));
            catalogue.Add(fields[1]);
        }
        if (relevant.Count == 0) throw new ExperimentsException($"{Path.GetFileName(truthPath)} has no relevant rows{(spec.RelevanceThreshold is { } m ? $" (relevance ≥ {m})" : "")}; ranking metrics are undefined.");
        // Items as indices so the engine's metric functions apply unchanged.
        var index = catalogue.Select((item, i) => (item, i)).ToDictionary(x => x.item, x => x.i, StringComparer.Ordinal);
        var users = relevant.Keys.Order(StringComparer.Ordinal).ToList();
        var perUser = metrics.Select(_ => new double[users.Count]).ToArray();
        var covered = new bool[catalogue.Count];
        for (var u = 0; u < users.Count; u++)
        {
            var ranked = predicted.TryGetValue(users[u], out var list)
                ? list.OrderByDescending(p => p.Score).ThenBy(p => p.Line).Select(p => index[p.Item]).ToArray()
                : [];
            var grades = relevant[users[u]].ToDictionary(g => index[g.Key], g => g.Value);
            var set = grades.Keys.ToHashSet();
            for (var m = 0; m < metrics.Count; m++)
            {
                var k = metrics[m].K!.Value;
                var top = ranked.AsSpan(0, Math.Min(k, ranked.Length));
                if (metrics[m].Name == "coverage") { foreach (var item in top) covered[item] = true; continue; }
                perUser[m][u] = metrics[m].Name == "ndcg" && spec.GradedRelevance
                    ? RankingMetrics.GradedNdcg(top, grades, k)
                    : RankingMetrics.Compute(metrics[m].Name, top, set, k);
            }
        }
        var values = RecommenderEvaluator.Aggregate(metrics, perUser, spec, seed,
            (m, v) => metrics[m].Name == "coverage" ? covered.Count(c => c) / (double)covered.Length : v.Average());
        var missing = users.Count(u => !predicted.ContainsKey(u));
        return new ExternalEvaluationResult(MetricCatalog.Ranking, values,
            $"ranking of the predicted items per user ({users.Count} users with relevant items{(missing > 0 ? $", {missing} of them without predictions: scored 0" : "")}; catalogue = items in either file, {catalogue.Count}){(spec.GradedRelevance ? ", NDCG graded (gain 2^relevance − 1)" : "")}", null);
    }

    private static ExternalEvaluationResult Rating(string truthPath, string predictionsPath, List<MetricName> metrics, EvaluationSpec spec, int seed)
    {
        var predictions = new Dictionary<(string, string), double>();
        foreach (var (line, fields) in Rows(predictionsPath, 3, 3))
            if (!predictions.TryAdd((fields[0], fields[1]), Number(predictionsPath, line, "score", fields[2])))
                throw new DataFileException(Path.GetFileName(predictionsPath), line, null, $"user '{fields[0]}' has item '{fields[1]}' twice; each pair needs one prediction");
        // Reuse the engine: truth and predictions become a tiny model over indexed users and items.
        var builder = new Core.Data.InteractionsBuilder();
        var predicted = new List<double>();
        foreach (var (line, fields) in Rows(truthPath, 3, 3))
        {
            var rating = Number(truthPath, line, "rating", fields[2]);
            if (!predictions.TryGetValue((fields[0], fields[1]), out var p))
                throw new DataFileException(Path.GetFileName(truthPath), line, null, $"no prediction for user '{fields[0]}' and item '{fields[1]}' in {Path.GetFileName(predictionsPath)}");
            builder.Add(fields[0], fields[1], (float)rating);
            predicted.Add(p);
        }
        var test = builder.Build();
        var lookup = new Dictionary<(int, int), float>();
        for (var r = 0; r < test.Count; r++) lookup[(test.User[r], test.Item[r])] = (float)predicted[r];
        var result = RecommenderEvaluator.Evaluate(new FixedPredictions(lookup), test, test, metrics, spec, seed);
        return new ExternalEvaluationResult(MetricCatalog.Rating, result.Values, $"rating prediction on {test.Count} truth rows", null);
    }

    private sealed class FixedPredictions(Dictionary<(int, int), float> predictions) : Core.Models.IRecommenderModel
    {
        public void ScoreItems(int user, Span<float> scores) => throw new NotSupportedException();
        public bool PredictsRatings => true;
        public float PredictRating(int user, int item) => predictions[(user, item)];
    }

    private static ExternalEvaluationResult Classification(string truthPath, string predictionsPath, List<MetricName> metrics, EvaluationSpec spec, int seed,
        (string Truth, string Predictions)? validation)
    {
        var header = Header(predictionsPath);
        if (header.Length == 2)
        {
            var (labels, scores) = Binary(truthPath, predictionsPath);
            var v = validation is { } files ? Binary(files.Truth, files.Predictions) : ((bool[], double[])?)null;
            var result = ClassificationEvaluator.EvaluateBinary(labels, scores, metrics, spec, seed, v);
            return new ExternalEvaluationResult(MetricCatalog.Classification, result.Values, result.Protocol, result.Threshold);
        }
        var classes = header[1..];
        var probabilities = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var (line, fields) in Rows(predictionsPath, header.Length, header.Length))
            probabilities[fields[0]] = fields[1..].Select((f, c) => Number(predictionsPath, line, classes[c], f)).ToArray();
        var truth = new List<int>();
        var rows = new List<double[]>();
        foreach (var (line, fields) in Rows(truthPath, 2, 2))
        {
            var label = Array.IndexOf(classes, fields[1]);
            if (label < 0) throw new DataFileException(Path.GetFileName(truthPath), line, "label", $"class '{fields[1]}' has no probability column in {Path.GetFileName(predictionsPath)} (columns: {string.Join(", ", classes)})");
            rows.Add(probabilities.TryGetValue(fields[0], out var p) ? p : throw new DataFileException(Path.GetFileName(truthPath), line, "id", $"no prediction for id '{fields[0]}'"));
            truth.Add(label);
        }
        var multi = ClassificationEvaluator.EvaluateMulticlass(truth.ToArray(), rows.ToArray(), classes.Length, metrics, spec, seed);
        return new ExternalEvaluationResult(MetricCatalog.Classification, multi.Values, multi.Protocol, null);
    }

    private static (bool[] Labels, double[] Scores) Binary(string truthPath, string predictionsPath)
    {
        var scores = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (line, fields) in Rows(predictionsPath, 2, 2))
            if (!scores.TryAdd(fields[0], Number(predictionsPath, line, "score", fields[1])))
                throw new DataFileException(Path.GetFileName(predictionsPath), line, "id", $"id '{fields[0]}' is scored twice");
        var labels = new List<bool>();
        var matched = new List<double>();
        foreach (var (line, fields) in Rows(truthPath, 2, 2))
        {
            if (fields[1] is not ("0" or "1")) throw new DataFileException(Path.GetFileName(truthPath), line, "label", $"not an allowed value: '{fields[1]}' (allowed: 0, 1)");
            labels.Add(fields[1] == "1");
            matched.Add(scores.TryGetValue(fields[0], out var s) ? s : throw new DataFileException(Path.GetFileName(truthPath), line, "id", $"no prediction for id '{fields[0]}' in {Path.GetFileName(predictionsPath)}"));
        }
        return (labels.ToArray(), matched.ToArray());
    }

    private static string[] Header(string path)
    {
        CheckedRowReader.RequireNonEmptyFile(path);
        using var reader = DelimitedReader.Open(path, ",", quoted: true, "utf-8");
        return reader.Read()?.ToArray() ?? throw new DataFileException(Path.GetFileName(path), 0, null, "the file is empty");
    }

    /// <summary>Data rows after the header, with their line numbers; every row must have between min and max fields.</summary>
    private static IEnumerable<(long Line, string[] Fields)> Rows(string path, int min, int max)
    {
        CheckedRowReader.RequireNonEmptyFile(path);
        var file = Path.GetFileName(path);
        using var reader = DelimitedReader.Open(path, ",", quoted: true, "utf-8");
        var header = reader.Read() ?? throw new DataFileException(file, 0, null, "the file is empty");
        if (header.Count < min || header.Count > max)
            throw new DataFileException(file, 1, null, $"the header has {header.Count} columns; expected {(min == max ? $"{min}" : $"{min} to {max}")}");
        var any = false;
        while (reader.Read() is { } fields)
        {
            if (fields.Count != header.Count)
                throw new DataFileException(file, reader.Line, null, $"ragged row: {fields.Count} fields, expected {header.Count} ({string.Join(",", header)})");
            any = true;
            yield return (reader.Line, fields.Select(f => f.Trim()).ToArray());
        }
        if (!any) throw new DataFileException(file, 0, null, "the file has no data rows after its header");
    }

    private static double Number(string path, long line, string field, string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
            ? value
            : throw new DataFileException(Path.GetFileName(path), line, field, $"not a number: '{text}'");
}
