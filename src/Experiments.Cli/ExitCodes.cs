namespace Experiments.Cli;

/// <summary>Exit codes, documented in the README.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    /// <summary>The run finished but at least one model failed.</summary>
    public const int RunFailed = 1;
    /// <summary>Bad input: a usage error, an invalid definition, bad data, an unknown name, a missing file, an unwritable store or reports folder.</summary>
    public const int InvalidInput = 2;
    /// <summary>The run ended and its results are stored, but its report could not be written (`experiments report` writes it).</summary>
    public const int ReportFailed = 3;
    /// <summary>The run finished, but the definition's regression rule found it worse than its reference run.</summary>
    public const int Regressed = 4;
    /// <summary>A bug in the program (reported in one line; EXPERIMENTS_DEBUG=1 shows the stack trace).</summary>
    public const int InternalError = 70;
    /// <summary>Stopped with Ctrl+C; what finished is kept.</summary>
    public const int Cancelled = 130;
}
