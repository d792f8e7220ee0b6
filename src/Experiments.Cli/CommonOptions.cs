using System.CommandLine;
using Experiments.Core;

namespace Experiments.Cli;

/// <summary>Options shared by several commands, and the one place that turns user errors into exit codes.</summary>
internal static class CommonOptions
{
    public static readonly Option<bool> Json = new("--json") { Description = "Print machine-readable JSON on standard output." };
    public static readonly Option<bool> Quiet = new("--quiet", "-q") { Description = "Print nothing but errors." };
    public static readonly Option<string> Store = new("--store") { Description = "The run store: a SQLite file, or a PostgreSQL connection string (postgres://user@host/database).", DefaultValueFactory = _ => "experiments.db" };
    public static readonly Option<string?> DataDir = new("--data-dir") { Description = $"Data directory (else ${Experiments.Datasets.DataDirectory.EnvironmentVariable}, ../shared/datasets, the user cache)." };

    public static Output OutputOf(ParseResult parse) => new(parse.GetValue(Json), parse.GetValue(Quiet));

    /// <summary>Runs a command body; user errors print a clear message and exit 2, never a stack trace.</summary>
    public static async Task<int> Guarded(ParseResult parse, Func<Output, Task<int>> body)
    {
        var output = OutputOf(parse);
        try
        {
            return await body(output);
        }
        catch (ExperimentsException e)
        {
            output.Error(e.Message);
            return ExitCodes.InvalidInput;
        }
        catch (OperationCanceledException)
        {
            output.Error("stopped by the user.");
            return ExitCodes.Cancelled;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("EXPERIMENTS_DEBUG") is null)
        {
            output.Error(InternalError(e)["error: ".Length..]);
            return ExitCodes.InternalError;
        }
    }

    /// <summary>A bug of ours, not the user's: said in one line (exit code 70); EXPERIMENTS_DEBUG=1 shows the stack trace.</summary>
    public static string InternalError(Exception e) =>
        $"error: internal error ({e.GetType().Name}): {e.Message} — please report it; set EXPERIMENTS_DEBUG=1 for details.";

    public static Command With(this Command command, params Option[] options)
    {
        foreach (var option in options) command.Options.Add(option);
        return command;
    }
}
