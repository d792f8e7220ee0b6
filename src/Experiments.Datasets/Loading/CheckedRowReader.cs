using System.Globalization;
using Experiments.Core;
using Experiments.Datasets.Manifests;

namespace Experiments.Datasets.Loading;

/// <summary>A row that passed the checks: its source line, its fields, and the parsed value of each numeric column (NaN = missing).</summary>
public readonly record struct CheckedRow(long Line, string[] Fields, double[] Numbers);

/// <summary>
/// Streams the rows of a delimited table and checks them against the manifest: the file exists and is not empty,
/// the header matches, every row has the right number of fields, values parse as their column's type, required
/// values are present, numbers are in range, values are among the allowed ones, and exact duplicate rows are
/// reported. Bad rows go to the <see cref="DataCheckReport"/> (fail or skip-and-count); file-level problems always fail.
/// </summary>
public static class CheckedRowReader
{
    public static IEnumerable<CheckedRow> Read(TableManifest table, string path, DataCheckReport report)
    {
        var file = Path.GetFileName(path);
        RequireNonEmptyFile(path);
        var columns = table.Columns;
        var seen = new Dictionary<(ulong, ulong), long>();
        using var reader = DelimitedReader.Open(path, table.Delimiter, table.Quoted, table.Encoding, table.Quote);
        var rows = 0L;
        if (table.Header)
        {
            var header = reader.Read() ?? throw new DataFileException(file, 0, null, "the file is empty; expected a header line and data rows");
            var expected = columns.Select(c => c.Name).ToList();
            if (!header.Select(h => h.Trim()).SequenceEqual(expected))
                throw new DataFileException(file, reader.Line, null,
                    $"the header does not match the data set's schema: expected {expected.Count} columns ({string.Join(",", expected)}), found {header.Count} ({string.Join(",", header)})");
        }
        while (reader.Read() is { } fields)
        {
            var line = reader.Line;
            if (reader.UnterminatedQuote) { report.BadRow(file, line, null, "unterminated quote: a quoted field runs to the end of the file"); continue; }
            if (fields.Count != columns.Count)
            {
                report.BadRow(file, line, null, $"ragged row: {fields.Count} fields, expected {columns.Count} ({string.Join(",", columns.Select(c => c.Name))})");
                continue;
            }
            var numbers = new double[columns.Count];
            var ok = true;
            for (var c = 0; c < columns.Count && ok; c++)
                ok = CheckValue(columns[c], fields[c].Trim(), out numbers[c], file, line, report);
            if (!ok) continue;
            var key = RowKey(fields);
            if (seen.TryGetValue(key, out var firstLine))
            {
                if (!report.DuplicateRow(file, line, firstLine)) continue;
            }
            else seen[key] = line;
            rows++;
            yield return new CheckedRow(line, fields.ToArray(), numbers);
        }
        if (rows == 0) throw new DataFileException(file, 0, null, "the file has no usable data rows");
    }

    public static void RequireNonEmptyFile(string path)
    {
        var file = Path.GetFileName(path);
        if (!File.Exists(path)) throw new DataFileException(path, 0, null, "the file does not exist");
        if (new FileInfo(path).Length == 0) throw new DataFileException(file, 0, null, "the file is empty (0 bytes)");
    }

    private static bool CheckValue(ColumnManifest column, string value, out double number, string file, long line, DataCheckReport report)
    {
        number = double.NaN;
        if (value.Length == 0)
        {
            if (column.Required)
            {
                report.BadRow(file, line, column.Name, "missing value: this column must not be empty");
                return false;
            }
            report.Note(file, line, $"missing values: {column.Name}", "empty value");
            return true;
        }
        if (column.Type != ColumnType.String)
        {
            var parsed = column.Type switch
            {
                ColumnType.Int64 => Integer(value),
                ColumnType.DateTime => double.IsNaN(Integer(value)) ? UnixSeconds(value) : Integer(value),
                _ => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var real) && double.IsFinite(real) ? real : double.NaN,
            };
            if (double.IsNaN(parsed))
            {
                report.BadRow(file, line, column.Name, column.Type == ColumnType.DateTime
                    ? $"not a time: '{Clip(value)}' (allowed: Unix seconds, or an ISO 8601 date or date-time such as 2024-03-01 or 2024-03-01T12:30:00Z)"
                    : $"not a number: '{Clip(value)}' (column type {column.Type.ToString().ToLowerInvariant()})");
                return false;
            }
            if ((column.Min is { } min && parsed < min) || (column.Max is { } max && parsed > max))
            {
                report.BadRow(file, line, column.Name, $"out of range: {value} (allowed {column.Min?.ToString(CultureInfo.InvariantCulture) ?? "-inf"} to {column.Max?.ToString(CultureInfo.InvariantCulture) ?? "+inf"})");
                return false;
            }
            number = parsed;
        }
        if (column.Allowed is { } allowed && !allowed.Contains(value))
        {
            report.BadRow(file, line, column.Name, $"not an allowed value: '{Clip(value)}' (allowed: {string.Join(", ", allowed)})");
            return false;
        }
        return true;
    }

    private static double Integer(string value) =>
        long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer) ? integer : double.NaN;

    private static readonly string[] IsoFormats =
        ["yyyy-MM-dd", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd HH:mm:ss.FFFFFFFK", "yyyy-MM-dd'T'HH:mmK", "yyyy-MM-dd HH:mmK"];

    /// <summary>An ISO 8601 date or date-time as Unix seconds (UTC unless it carries an offset); NaN when it is none.</summary>
    public static double UnixSeconds(string value) =>
        DateTimeOffset.TryParseExact(value, IsoFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time.ToUnixTimeSeconds() : double.NaN;

    private static string Clip(string value) => value.Length <= 40 ? value : value[..40] + "…";

    // Two independent 64-bit FNV-1a hashes: a 128-bit key keeps memory small and makes a false "duplicate" practically impossible.
    private static (ulong, ulong) RowKey(List<string> fields)
    {
        ulong a = 14695981039346656037UL, b = 1099511628211UL * 31;
        foreach (var field in fields)
        {
            foreach (var ch in field)
            {
                a = (a ^ ch) * 1099511628211UL;
                b = (b ^ ch) * 0x100000001b3UL + 0x9E3779B97F4A7C15UL;
            }
            a = (a ^ 0x1F) * 1099511628211UL;
            b = (b ^ 0x1F) * 0x100000001b3UL + 0x9E3779B97F4A7C15UL;
        }
        return (a, b);
    }
}
