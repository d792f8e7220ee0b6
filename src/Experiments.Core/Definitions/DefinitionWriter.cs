using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Experiments.Core.Definitions;

/// <summary>
/// Writes a definition as canonical JSON (fixed key order, every default spelled out). The store keeps this text,
/// and its SHA-256 identifies the definition: two files that differ only in layout or omitted defaults hash the same.
/// </summary>
public static class DefinitionWriter
{
    public static string ToJson(ExperimentDefinition d)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("name", d.Name);
            if (d.Description is not null) w.WriteString("description", d.Description);
            w.WriteString("task", d.Task);
            w.WriteStartObject("dataset");
            w.WriteString("name", d.Dataset.Name);
            if (d.Dataset.Files is not null) WriteFiles(w, d.Dataset);
            if (d.Dataset.Table is not null) w.WriteString("table", d.Dataset.Table);
            if (d.Dataset.DataDirectory is not null) w.WriteString("dataDirectory", d.Dataset.DataDirectory);
            w.WriteString("badRows", d.Dataset.BadRows.ToString().ToLowerInvariant());
            w.WriteString("duplicates", d.Dataset.Duplicates.ToString().ToLowerInvariant());
            if (d.Dataset.ClicksFromRatings is { } clicks)
            {
                w.WriteStartObject("clicksFromRatings");
                w.WriteNumber("positiveRating", clicks.PositiveRating);
                w.WriteNumber("negativesPerPositive", clicks.NegativesPerPositive);
                w.WriteEndObject();
            }
            if (d.Dataset.Options.Count > 0)
            {
                w.WriteStartObject("options");
                foreach (var (key, value) in d.Dataset.Options.OrderBy(o => o.Key, StringComparer.Ordinal)) w.WriteNumber(key, value);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            WriteSplit(w, d.Split);
            // Written only when present, so that definitions without encoders keep their earlier hash.
            if (d.Encoders.Count > 0)
            {
                w.WriteStartArray("encoders");
                foreach (var encoder in d.Encoders)
                {
                    w.WriteStartObject();
                    w.WriteString("name", encoder.Name);
                    if (encoder.Checkpoint is not null) w.WriteString("checkpoint", encoder.Checkpoint);
                    w.WriteString("objective", encoder.Objective);
                    w.WriteStartArray("columns");
                    foreach (var column in encoder.Columns) w.WriteStringValue(column);
                    w.WriteEndArray();
                    if (encoder.LabelColumn is not null) w.WriteString("labelColumn", encoder.LabelColumn);
                    WriteParameters(w, encoder.Parameters);
                    w.WriteEndObject();
                }
                w.WriteEndArray();
            }
            w.WriteStartArray("models");
            foreach (var model in d.Models)
            {
                w.WriteStartObject();
                w.WriteString("type", model.Type);
                w.WriteString("name", model.Name);
                WriteParameters(w, model.Parameters);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("metrics");
            foreach (var metric in d.Metrics) w.WriteStringValue(metric.ToString());
            w.WriteEndArray();
            w.WriteStartObject("evaluation");
            if (d.Evaluation.RelevanceThreshold is { } threshold) w.WriteNumber("relevanceThreshold", threshold);
            w.WriteBoolean("excludeTrainItems", d.Evaluation.ExcludeTrainItems);
            w.WriteNumber("bootstrapSamples", d.Evaluation.BootstrapSamples);
            w.WriteNumber("confidenceLevel", d.Evaluation.ConfidenceLevel);
            w.WriteBoolean("gradedRelevance", d.Evaluation.GradedRelevance);
            w.WriteString("protocol", d.Evaluation.Protocol);
            w.WriteNumber("negatives", d.Evaluation.Negatives);
            if (d.Evaluation.Baseline is not null) w.WriteString("baseline", d.Evaluation.Baseline);
            w.WriteString("thresholdRule", d.Evaluation.ThresholdRule);
            w.WriteNumber("threshold", d.Evaluation.Threshold);
            w.WriteNumber("targetPrecision", d.Evaluation.TargetPrecision);
            w.WriteEndObject();
            // Written only when present, so that definitions of other tasks keep their earlier hash.
            if (d.Search is { } search)
            {
                w.WriteStartObject("search");
                if (search.Judgements is not null) w.WriteString("judgements", search.Judgements);
                w.WriteNumber("maxQueries", search.MaxQueries);
                w.WriteString("gain", search.Gain);
                if (search.RelevanceThreshold is { } relevance) w.WriteNumber("relevanceThreshold", relevance);
                if (search.Language is not null) w.WriteString("language", search.Language);
                w.WriteEndObject();
            }
            // Written only when present, so that definitions of other tasks keep their earlier hash.
            if (d.Hybrid is { } hybrid)
            {
                w.WriteStartObject("hybrid");
                w.WriteStartArray("textColumns");
                foreach (var column in hybrid.TextColumns) w.WriteStringValue(column);
                w.WriteEndArray();
                w.WriteStartArray("attributes");
                foreach (var column in hybrid.Attributes) w.WriteStringValue(column);
                w.WriteEndArray();
                if (hybrid.Tags is not null) w.WriteString("tags", hybrid.Tags);
                if (hybrid.Impressions is not null) w.WriteString("impressions", hybrid.Impressions);
                w.WriteString("embedder", hybrid.Embedder);
                w.WriteNumber("dimension", hybrid.Dimension);
                if (hybrid.Checkpoint is not null) w.WriteString("checkpoint", hybrid.Checkpoint);
                w.WritePropertyName("encoder");
                w.WriteStartObject();
                foreach (var (key, value) in hybrid.EncoderParameters.OrderBy(p => p.Key, StringComparer.Ordinal)) WriteValue(w, key, value);
                w.WriteEndObject();
                w.WriteNumber("foldIn", hybrid.FoldIn);
                w.WriteString("coldItemCandidates", hybrid.ColdItemCandidates);
                w.WriteEndObject();
            }
            // Written only when present, so that definitions without a sweep keep their earlier hash.
            if (d.Sweep is { } sweep) SweepDefinition.Write(w, sweep);
            w.WriteNumber("seed", d.Seed);
            w.WriteStartObject("output");
            w.WriteString("store", d.Output.Store);
            w.WriteString("reports", d.Output.Reports);
            w.WriteStartArray("formats");
            foreach (var format in d.Output.Formats) w.WriteStringValue(format);
            w.WriteEndArray();
            w.WriteEndObject();
            // Written only when present, so that definitions without a rule keep their earlier hash.
            if (d.Regression is { } regression)
            {
                w.WriteStartObject("regression");
                w.WriteString("metric", regression.Metric.ToString());
                w.WriteString("rule", regression.Rule);
                w.WriteString("against", regression.Against);
                if (regression.Model is not null) w.WriteString("model", regression.Model);
                if (regression.Rule == RegressionRule.NotSignificantlyWorse) w.WriteNumber("alpha", regression.Alpha);
                else w.WriteNumber("tolerance", regression.Tolerance);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    public static string Hash(ExperimentDefinition d) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ToJson(d))));

    private static void WriteSplit(Utf8JsonWriter w, SplitSpec s)
    {
        w.WriteStartObject("split");
        w.WriteString("method", s.Method);
        switch (s.Method)
        {
            case "leave-last-n": w.WriteNumber("n", s.N); break;
            case "k-fold": w.WriteNumber("folds", s.Folds); break;
            case "predefined":
                if (s.Name is not null) w.WriteString("name", s.Name);
                // Written only when asked for, so that definitions of earlier predefined splits keep their hash.
                if (s.ValidationFraction > 0) w.WriteNumber("validationFraction", s.ValidationFraction);
                break;
            case "cold-start-items" or "cold-start-users": w.WriteNumber("testFraction", s.TestFraction); break;
            default:
                w.WriteNumber("testFraction", s.TestFraction);
                w.WriteNumber("validationFraction", s.ValidationFraction);
                break;
        }
        // Written only when not the default, so definitions that leave it out keep their canonical form (and hash).
        if (s.Unit != SplitSpec.Pairs) w.WriteString("unit", s.Unit);
        w.WriteEndObject();
    }

    /// <summary>Own files: the files, their format with every default spelled out, the column roles and the rating scale.</summary>
    private static void WriteFiles(Utf8JsonWriter w, DatasetSpec dataset)
    {
        w.WriteStartObject("files");
        foreach (var (key, path) in dataset.Files!.Named())
            // A file of the shared format stays a plain path, so definitions without own formats keep their hash.
            if (dataset.Files.Formats.TryGetValue(key, out var own))
            {
                w.WriteStartObject(key);
                w.WriteString("path", path);
                WriteFormat(w, own);
                w.WriteEndObject();
            }
            else w.WriteString(key, path);
        w.WriteEndObject();
        WriteFormat(w, dataset.Format);
        var columns = dataset.Columns;
        w.WriteStartObject("columns");
        foreach (var (role, column, _) in columns.Mapped().Where(m => m.Key == m.Role)) w.WriteString(role, column);
        foreach (var (role, list) in columns.Lists())
            if (list.Count > 0) WriteStrings(w, role, list);
        w.WriteEndObject();
        if (dataset.RatingScale is { } scale)
        {
            w.WriteStartObject("ratingScale");
            w.WriteNumber("min", scale.Min);
            w.WriteNumber("max", scale.Max);
            w.WriteEndObject();
        }
    }

    private static void WriteFormat(Utf8JsonWriter w, FileFormat format)
    {
        w.WriteStartObject("format");
        w.WriteString("delimiter", format.Delimiter);
        w.WriteBoolean("header", format.Header);
        if (format.ColumnNames is { } names) WriteStrings(w, "columnNames", names);
        w.WriteString("quote", format.Quote);
        w.WriteString("encoding", format.Encoding);
        w.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var value in values) w.WriteStringValue(value);
        w.WriteEndArray();
    }

    private static void WriteParameters(Utf8JsonWriter w, IReadOnlyDictionary<string, object> parameters)
    {
        w.WriteStartObject("parameters");
        foreach (var (key, value) in parameters.OrderBy(p => p.Key, StringComparer.Ordinal)) WriteValue(w, key, value);
        w.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter w, string key, object value)
    {
        switch (value)
        {
            case bool b: w.WriteBoolean(key, b); break;
            case string s: w.WriteString(key, s); break;
            case int or long: w.WriteNumber(key, Convert.ToInt64(value, CultureInfo.InvariantCulture)); break;
            default: w.WriteNumber(key, Convert.ToDouble(value, CultureInfo.InvariantCulture)); break;
        }
    }
}
