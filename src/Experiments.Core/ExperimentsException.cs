namespace Experiments.Core;

/// <summary>
/// An error the user can act on: bad input, a missing file, an unknown name. Its message is complete on its own
/// (what was wrong, where, and what is allowed), so shells print it instead of a stack trace.
/// </summary>
public class ExperimentsException : Exception
{
    public ExperimentsException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>A problem in a data file, located by file, line and field.</summary>
public sealed class DataFileException : ExperimentsException
{
    public DataFileException(string file, long line, string? field, string problem)
        : base(Format(file, line, field, problem))
    {
        File = file;
        Line = line;
        Field = field;
        Problem = problem;
    }

    public string File { get; }
    public long Line { get; }
    public string? Field { get; }
    public string Problem { get; }

    private static string Format(string file, long line, string? field, string problem) =>
        line > 0
            ? $"{file}, line {line}{(field is null ? "" : $", field '{field}'")}: {problem}"
            : $"{file}: {problem}";
}
