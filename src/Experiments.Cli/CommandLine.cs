using System.CommandLine;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using Experiments.Core;
using Experiments.Core.Definitions;
using Spectre.Console;

namespace Experiments.Cli;

/// <summary>The `experiments` program: its commands, and how it answers a command line it cannot run.</summary>
public static class CommandLine
{
    public const string Program = "experiments";

    public static RootCommand Build()
    {
        var root = new RootCommand("Experiments: define, run, evaluate and compare recommendation and search experiments.");
        RunCommands.Add(root);
        SweepCommands.Add(root);
        StoreCommands.Add(root);
        DatasetCommands.Add(root);
        EvaluateCommands.Add(root);
        EmbedCommands.Add(root);
        SearchCommands.Add(root);
        ScheduleCommands.Add(root);
        ClusterCommands.Add(root);
        return root;
    }

    public static async Task<int> Run(string[] args, Action prepare)
    {
        ConsoleWidth.Apply();
        var parse = Build().Parse(args);
        if (parse.Errors.Count > 0 && parse.Action is ParseErrorAction)
        {
            Console.Error.WriteLine(UsageError(parse));
            return ExitCodes.InvalidInput;
        }
        // Ctrl+C cancels the token the commands receive; they stop at the next safe point and keep what finished.
        var configuration = new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(30), EnableDefaultExceptionHandler = false };
        try
        {
            prepare();
            return await parse.InvokeAsync(configuration);
        }
        catch (ExperimentsException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.InvalidInput;
        }
        catch (Exception e) when (Environment.GetEnvironmentVariable("EXPERIMENTS_DEBUG") is null)
        {
            Console.Error.WriteLine(CommonOptions.InternalError(e));
            return ExitCodes.InternalError;
        }
    }

    /// <summary>
    /// One short paragraph for a command line that cannot run: what was wrong (with the closest option or command
    /// when a name is mistyped) and where the full help is — not the whole help text.
    /// </summary>
    public static string UsageError(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        var path = new List<string>();
        for (SymbolResult? result = parse.CommandResult; result is CommandResult c; result = c.Parent)
            if (c.Command is not RootCommand) path.Insert(0, c.Command.Name);
        var problems = parse.Errors.Select(e => Describe(e, command)).Distinct().ToList();
        return $"error: {string.Join("; ", problems)}. See `{string.Join(" ", [Program, .. path, "--help"])}`.";
    }

    private static string Describe(ParseError error, Command command)
    {
        var message = error.Message.TrimEnd('.');
        // System.CommandLine names .NET types ("as expected type 'System.Int64'"); say what a person types instead.
        foreach (var (type, words) in new[] { ("System.Int64", "a whole number"), ("System.Int32", "a whole number"), ("System.Double", "a number"), ("System.Single", "a number"), ("System.Boolean", "true or false") })
            message = message.Replace($"as expected type '{type}'", $"as {words}");
        const string unrecognized = "Unrecognized command or argument '";
        if (message.StartsWith(unrecognized, StringComparison.Ordinal))
        {
            var token = message[unrecognized.Length..].TrimEnd('\'');
            var names = token.StartsWith('-')
                ? command.Options.Where(o => !o.Hidden).SelectMany(o => o.Aliases.Prepend(o.Name))
                : command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name);
            var kind = token.StartsWith('-') ? "option" : command.Subcommands.Count > 0 ? "command" : "argument";
            message = $"unknown {kind} '{token}'";
            if (DefinitionValidator.Suggest(token, names) is { } suggestion) message += $"; did you mean '{suggestion}'?";
        }
        return message;
    }
}

/// <summary>
/// Output that is not a terminal (a file, a pipe, a CI log) gets the width in COLUMNS, or full width — never the 80
/// columns that would cut tables.
/// </summary>
public static class ConsoleWidth
{
    /// <summary>Width for output that is not a terminal when COLUMNS is not set: wide enough that no table is cut.</summary>
    public const int Unbounded = 4096;

    public static void Apply()
    {
        if (For(Console.IsOutputRedirected, Environment.GetEnvironmentVariable("COLUMNS")) is { } width) AnsiConsole.Profile.Width = width;
    }

    /// <summary>The width to use, or null to keep the terminal's own.</summary>
    public static int? For(bool redirected, string? columns) =>
        int.TryParse(columns, out var c) && c > 0 ? c : redirected ? Unbounded : null;
}
