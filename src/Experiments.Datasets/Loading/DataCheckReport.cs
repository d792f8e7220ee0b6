using Experiments.Core;
using Experiments.Core.Definitions;

namespace Experiments.Datasets.Loading;

/// <summary>One problem found while loading: which file and line, of what kind, and what was wrong.</summary>
public sealed record DataIssue(string File, long Line, string Kind, string Message);

/// <summary>
/// What the checks found while loading: rows skipped (by kind), duplicates, missing values, warnings. Under
/// <see cref="BadRowPolicy.Fail"/> the first bad row stops loading; under <see cref="BadRowPolicy.Skip"/> it is counted
/// here and the run records the counts.
/// </summary>
public sealed class DataCheckReport
{
    private const int ExamplesPerKind = 5;
    private readonly Dictionary<string, long> _counts = new();
    private readonly List<DataIssue> _examples = new();
    private readonly object _gate = new();

    public DataCheckReport(BadRowPolicy badRows = BadRowPolicy.Fail, DuplicatePolicy duplicates = DuplicatePolicy.Keep)
    {
        BadRows = badRows;
        Duplicates = duplicates;
    }

    public BadRowPolicy BadRows { get; }
    public DuplicatePolicy Duplicates { get; }

    /// <summary>Count per kind: "skipped:ragged row", "duplicate rows", "missing values:I1", "warning".</summary>
    public IReadOnlyDictionary<string, long> Counts { get { lock (_gate) return new Dictionary<string, long>(_counts); } }

    /// <summary>Up to five examples of each kind, with file and line.</summary>
    public IReadOnlyList<DataIssue> Examples { get { lock (_gate) return _examples.ToList(); } }

    public long SkippedRows => Counts.Where(c => c.Key.StartsWith("skipped:", StringComparison.Ordinal)).Sum(c => c.Value);

    /// <summary>A row that cannot be used: throws under Fail, counts it under Skip.</summary>
    public void BadRow(string file, long line, string? field, string problem)
    {
        if (BadRows == BadRowPolicy.Fail)
            throw new DataFileException(file, line, field,
                problem + " (to skip such rows and count them, set \"badRows\": \"skip\" in the definition's \"dataset\")");
        Note(file, line, "skipped: " + KindOf(problem), field is null ? problem : $"field '{field}': {problem}");
    }

    /// <summary>A row identical to an earlier one. Returns true when the row should be kept.</summary>
    public bool DuplicateRow(string file, long line, long firstLine)
    {
        if (Duplicates == DuplicatePolicy.Fail)
            throw new DataFileException(file, line, null,
                $"this row repeats line {firstLine} exactly (set \"duplicates\": \"keep\" or \"drop\" to accept duplicates)");
        Note(file, line, Duplicates == DuplicatePolicy.Drop ? "duplicate rows dropped" : "duplicate rows kept", $"repeats line {firstLine}");
        return Duplicates == DuplicatePolicy.Keep;
    }

    public void Note(string file, long line, string kind, string message)
    {
        lock (_gate)
        {
            _counts[kind] = _counts.GetValueOrDefault(kind) + 1;
            if (_examples.Count(e => e.Kind == kind) < ExamplesPerKind) _examples.Add(new DataIssue(file, line, kind, message));
        }
    }

    public void Warn(string file, string message) => Note(file, 0, "warning", message);

    // The kind is the problem's wording up to the first colon, so counts group "ragged row: 3 fields ..." together.
    private static string KindOf(string problem)
    {
        var colon = problem.IndexOf(':');
        return colon > 0 ? problem[..colon] : problem;
    }
}
