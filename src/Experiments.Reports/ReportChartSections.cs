using Experiments.Evaluation;
using Experiments.Store;

namespace Experiments.Reports;

/// <summary>The chart sections of a run's report, each drawn only where the store has its data.</summary>
internal static class ReportChartSections
{
    /// <summary>Charts with more lines than this show the best models only (by the leaderboard), so that they stay readable.</summary>
    private const int MaxLines = 12;

    public static void Add(ReportDocument doc, RunReport report)
    {
        MetricBars(doc, report);
        var names = report.Trials.ToDictionary(t => t.Id, t => t.ModelName);
        // Curves of one split (the first) only: with k-fold, the folds' curves would overlap model by model.
        var split = report.Curves.FirstOrDefault(c => c.TrialId is not null)?.Split;
        var curves = report.Curves.Where(c => c.TrialId is null || c.Split == split).ToList();
        var order = report.Leaderboard.Select(r => r.Model).ToList();
        int Rank(CurveRecord c) => c.TrialId is { } id && names.TryGetValue(id, out var n) && order.IndexOf(n) is var i and >= 0 ? i : int.MaxValue;
        List<CurveRecord> Best(IEnumerable<CurveRecord> kind) => kind.OrderBy(Rank).Take(MaxLines).ToList();
        string Name(CurveRecord c) => c.TrialId is { } id && names.TryGetValue(id, out var n) ? n : c.Name;
        var ofSplit = report.Trials.Select(t => t.Split).Distinct().Count() > 1 ? $" (split {split})" : "";

        var atK = curves.Where(c => c.Kind == CurveKinds.MetricAtK).ToList();
        if (atK.Count > 0)
        {
            doc.Heading("Metrics at every cut-off K");
            doc.Text("Each metric at K = 1 … 50 on the same test users and full-catalogue lists as the leaderboard (the leaderboard's values are points of these curves).");
            foreach (var metric in atK.Select(c => c.Name).Distinct())
                doc.Chart($"{metric}@K{ofSplit}", ReportCharts.Lines("K", metric, Best(atK.Where(c => c.Name == metric)).Select(c => new Series(Name(c), c.X, c.Y)).ToList()));
        }

        var popularity = curves.Where(c => c.Kind == CurveKinds.Popularity).ToList();
        if (popularity.Count > 0)
        {
            doc.Heading("Popularity bias");
            doc.Text("Share of each model's recommendations per popularity decile of the catalogue (1 = the most popular tenth of the items), beside the training interactions' share: a model that piles on decile 1 recommends what everyone already has.");
            var recommended = Best(popularity.Where(c => c.Name != "training interactions"));
            var interactions = popularity.First(c => c.Name == "training interactions");
            var deciles = interactions.X.Select(d => d.ToString("0", System.Globalization.CultureInfo.InvariantCulture)).ToList();
            doc.Chart($"Recommendations per popularity decile{ofSplit}", ReportCharts.GroupedBars("popularity decile", "share", deciles,
                [("training interactions", interactions.Y), .. recommended.Select(c => (Name(c), c.Y))]));
        }

        Classification(doc, report, curves, Best, Name, ofSplit);

        var training = curves.Where(c => c.Kind == CurveKinds.Training).ToList();
        if (training.Count > 0)
        {
            doc.Heading("Training curves");
            doc.Text("As the trainers recorded them, per iteration or epoch: training and validation RMSE of matrix factorisation, an encoder's loss and validation score.");
            foreach (var group in training.GroupBy(c => c.TrialId).OrderBy(g => g.First() is var c ? Rank(c) : 0).Take(MaxLines))
            {
                var first = group.First();
                var title = first.TrialId is null ? $"Encoders{ofSplit}" : $"{Name(first)}{ofSplit}";
                doc.Chart(title, ReportCharts.Lines(first.TrialId is null ? "epoch" : "iteration", "value", group.Select(c => new Series(c.Name, c.X, c.Y)).ToList()));
            }
        }
    }

    private static void MetricBars(ReportDocument doc, RunReport report)
    {
        var rows = report.Leaderboard.Where(r => r.Metrics.Count > 0).ToList();
        if (rows.Count == 0) return;
        doc.Heading("Metrics by model");
        doc.Text("Bars: each model's value; whiskers: its interval (as in the leaderboard).");
        foreach (var metric in report.Metrics)
        {
            var with = rows.Where(r => r.Metrics.ContainsKey(metric)).ToList();
            if (with.Count == 0) continue;
            var cells = with.Select(r => r.Metrics[metric]).ToList();
            doc.Chart(metric, ReportCharts.Bars(metric, with.Select(r => Label(r, report)).ToList(), cells.Select(c => c.Value).ToList(),
                cells.Select(c => c.Lower is { } lo && c.Upper is { } hi ? ((double, double)?)(lo, hi) : null).ToList()));
        }
    }

    private static string Label(LeaderboardRow row, RunReport report) =>
        report.Leaderboard.Count(r => r.Model == row.Model) > 1 ? $"{row.Model} ({row.Split})" : row.Model;

    private static void Classification(ReportDocument doc, RunReport report, List<CurveRecord> curves, Func<IEnumerable<CurveRecord>, List<CurveRecord>> best,
        Func<CurveRecord, string> name, string ofSplit)
    {
        var roc = curves.Where(c => c.Kind == CurveKinds.Roc).ToList();
        if (roc.Count == 0) return;
        doc.Heading("Click models: ROC, precision–recall, calibration");
        doc.Chart($"ROC{ofSplit}", ReportCharts.Lines("false positive rate", "true positive rate", best(roc).Select(c => new Series(name(c), c.X, c.Y)).ToList(), diagonal: true));
        var pr = best(curves.Where(c => c.Kind == CurveKinds.PrecisionRecall));
        if (pr.Count > 0) doc.Chart($"Precision–recall{ofSplit}", ReportCharts.Lines("recall", "precision", pr.Select(c => new Series(name(c), c.X, c.Y)).ToList()));
        var calibration = best(curves.Where(c => c.Kind == CurveKinds.Calibration));
        if (calibration.Count > 0)
            doc.Chart($"Calibration{ofSplit}", ReportCharts.Lines("mean predicted probability", "observed positive rate", calibration.Select(c => new Series(name(c), c.X, c.Y)).ToList(), diagonal: true));

        var confusion = best(curves.Where(c => c.Kind == CurveKinds.Confusion));
        if (confusion.Count > 0)
        {
            doc.Heading("Confusion matrices at the chosen threshold", 3);
            doc.Table("confusion", ["model", "true negatives", "false positives", "false negatives", "true positives"], confusion.Select(c => (IReadOnlyList<ReportDocument.Cell>)
                [name(c), .. Enumerable.Range(0, 4).Select(i => new ReportDocument.Cell(c.Z![i].ToString("N0", System.Globalization.CultureInfo.InvariantCulture), c.Z[i], true))]));
            foreach (var c in confusion)
            {
                // Cells (actual X, predicted Y, rows Z); rows of the heatmap are the actual class.
                var counts = new[] { new double[2], new double[2] };
                for (var i = 0; i < c.X.Count; i++) counts[(int)c.X[i]][(int)c.Y[i]] = c.Z![i];
                doc.Chart($"Confusion matrix: {name(c)}", ReportCharts.Counts(["predicted no click", "predicted click"], ["no click", "click"], counts, "predicted", "actual"));
            }
        }

        var importance = best(curves.Where(c => c.Kind == CurveKinds.FeatureImportance));
        if (importance.Count > 0)
        {
            doc.Heading("Feature importance", 3);
            doc.Text("Permutation importance: the drop in test AUC when a column's values are shuffled (whiskers: ± one standard deviation over the repeats); the 20 largest per model.");
            foreach (var c in importance)
            {
                var top = Enumerable.Range(0, c.Y.Count).OrderByDescending(i => c.Y[i]).Take(20).ToList();
                doc.Chart($"Feature importance: {name(c)}", ReportCharts.HorizontalBars("drop in AUC", top.Select(i => c.Labels![i]).ToList(), top.Select(i => c.Y[i]).ToList(),
                    c.Z is null ? null : top.Select(i => c.Z[i]).ToList()));
            }
        }
    }
}
