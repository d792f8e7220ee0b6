namespace Experiments.Core.Definitions;

/// <summary>One problem in an experiment definition: where (JSON path, line, column) and what.</summary>
public sealed record DefinitionError(string Path, int Line, int Column, string Message)
{
    public override string ToString() => Line > 0 ? $"{Line}:{Column} {Path}: {Message}" : $"{Path}: {Message}";
}

/// <summary>An experiment definition that cannot run, with every problem found in it.</summary>
public sealed class DefinitionException : ExperimentsException
{
    public DefinitionException(string source, IReadOnlyList<DefinitionError> errors)
        : base($"{source} is not a valid experiment definition ({errors.Count} problem{(errors.Count == 1 ? "" : "s")}):"
               + string.Concat(errors.Select(e => $"{Environment.NewLine}  {source}:{e}")))
    {
        File = source;
        Errors = errors;
    }

    public string File { get; }
    public IReadOnlyList<DefinitionError> Errors { get; }
}
