using System.Text.Json;
using System.Text.Json.Serialization;
using Spectre.Console;

namespace Experiments.Cli;

/// <summary>How the CLI talks: tables for people, JSON for scripts, nothing but errors when quiet.</summary>
public sealed class Output(bool json, bool quiet)
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public bool Json { get; } = json;
    public bool Quiet { get; } = quiet;
    /// <summary>Human-readable output (tables, progress) is shown.</summary>
    public bool Human => !Json && !Quiet;

    public void Write(Spectre.Console.Rendering.IRenderable renderable)
    {
        if (Human) AnsiConsole.Write(renderable);
    }

    public void Line(string markup)
    {
        if (Human) AnsiConsole.MarkupLine(markup);
    }

    public void Warning(string text)
    {
        if (!Json && !Quiet) AnsiConsole.MarkupLineInterpolated($"[yellow]warning:[/] {text}");
    }

    public void JsonResult(object value)
    {
        if (Json) Console.Out.WriteLine(JsonSerializer.Serialize(value, JsonOptions));
    }

    /// <summary>Errors always go to standard error — also with --quiet —, as plain text (or JSON with --json), never as a stack trace.</summary>
    public void Error(string message)
    {
        if (Json) Console.Error.WriteLine(JsonSerializer.Serialize(new { error = message }, JsonOptions));
        else Console.Error.WriteLine($"error: {message}");
    }
}
