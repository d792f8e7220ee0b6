using System.Collections.Concurrent;
using System.Reactive.Linq;
using System.Runtime.Loader;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.Documents;
using Microsoft.DotNet.Interactive.Documents.Jupyter;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.Formatting;
using Microsoft.DotNet.Interactive.PackageManagement;

namespace Experiments.Notebooks;

/// <summary>One code cell's run: its number among all the notebook's cells (1-based), what it displayed, and its error if it failed.</summary>
public sealed record CellRun(int Number, IReadOnlyList<InteractiveDocumentOutputElement> Outputs, string? Error, TimeSpan Elapsed);

/// <summary>A notebook's run: the cells that ran, in order, stopping at the first that failed.</summary>
public sealed record NotebookRun(string Path, InteractiveDocument Document, IReadOnlyList<CellRun> Cells)
{
    public CellRun? Failed => Cells.FirstOrDefault(c => c.Error is not null);

    /// <summary>Every displayed value's formatted text, by MIME type.</summary>
    public IEnumerable<(string MimeType, string Value)> Displayed =>
        Cells.SelectMany(c => c.Outputs).SelectMany(o => o switch
        {
            DisplayElement d => d.Data,
            ReturnValueElement r => r.Data,
            _ => new Dictionary<string, object>(),
        }).Select(kv => (kv.Key, kv.Value?.ToString() ?? ""));
}

/// <summary>
/// Runs a .ipynb the way Polyglot Notebooks does, in this process: .NET Interactive's CompositeKernel with its
/// CSharpKernel, `#r "nuget: …"` and `#i` through its package manager, and the kernel extensions that packages carry
/// (interactive-extensions/dotnet, as Plotly.NET.Interactive's) loaded after each command as the dotnet-interactive tool
/// does. Cells run in order; the first that fails ends the run.
/// </summary>
public static class NotebookRunner
{
    private static readonly KernelInfoCollection Kernels = [new Microsoft.DotNet.Interactive.Documents.KernelInfo("csharp", languageName: "C#", aliases: ["c#", "C#"])];

    /// <summary>
    /// The formatters as a fresh kernel process has them, with what a browser front end (VS Code, Jupyter) asks of
    /// them: notebooks run one after another in this process, and one notebook's formatters must not show another's
    /// values.
    /// </summary>
    private static void ResetFormatters()
    {
        Formatter.ResetToDefault();
        Formatter.DefaultMimeType = HtmlFormatter.MimeType;
        Formatter.SetPreferredMimeTypesFor(typeof(string), PlainTextFormatter.MimeType);
    }

    public static async Task<NotebookRun> RunAsync(string path, TimeSpan timeout)
    {
        ResetFormatters();
        var document = Notebook.Parse(await File.ReadAllTextAsync(path), Kernels);
        // Relative paths in a notebook (its #i package folder among them) are relative to its folder, as in VS Code.
        Directory.SetCurrentDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var kernel = CreateKernel();
        using var cancel = new CancellationTokenSource(timeout);
        var cells = new List<CellRun>();
        var number = 0;
        foreach (var element in document.Elements)
        {
            number++;
            if (element.KernelName is not "csharp") continue;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var outputs = new List<InteractiveDocumentOutputElement>();
            string? error;
            try
            {
                var result = await kernel.SendAsync(new SubmitCode(element.Contents, "csharp"), cancel.Token);
                error = Collect(result.Events, outputs);
            }
            catch (OperationCanceledException)
            {
                error = $"the notebook ran past its {timeout.TotalMinutes:F0}-minute limit";
            }
            element.Outputs.Clear();
            element.Outputs.AddRange(outputs);
            element.ExecutionOrder = cells.Count + 1;
            cells.Add(new CellRun(number, outputs, error, clock.Elapsed));
            if (error is not null) break;
        }
        return new NotebookRun(path, document, cells);
    }

    /// <summary>
    /// Writes the outputs of a run back into its notebook (only when asked: CI never does). Every chart of the run
    /// carries plotly.js (3.6 MB); the file keeps it in its first chart only, and the later charts, which wait for
    /// <c>window.Plotly</c>, draw from that one (a notebook's outputs share one page in VS Code and Jupyter).
    /// </summary>
    public static void WriteOutputs(NotebookRun run)
    {
        var carried = false;
        foreach (var output in run.Document.Elements.SelectMany(e => e.Outputs))
        {
            var data = output switch { DisplayElement d => d.Data, ReturnValueElement r => r.Data, _ => null };
            if (data is null || !data.TryGetValue("text/html", out var value) || value?.ToString() is not { } html) continue;
            var library = InlinePlotly.Match(html);
            if (!library.Success) continue;
            if (carried) data["text/html"] = html.Remove(library.Index, library.Length).Insert(library.Index, SharedPlotly);
            carried = true;
        }
        File.WriteAllText(run.Path, run.Document.ToJupyterJson() + "\n");
    }

    /// <summary>What a written notebook's later charts hold in place of plotly.js.</summary>
    public const string SharedPlotly = "<script type=\"text/javascript\">/* plotly.js: inline in this notebook's first chart */</script>";

    /// <summary>The script of a chart's output that carries plotly.js (Experiments.Interactive marks it).</summary>
    public static readonly System.Text.RegularExpressions.Regex InlinePlotly =
        new(@"<script type=""text/javascript"">/\* experiments: plotly\.js inline \*/(.*?)</script>", System.Text.RegularExpressions.RegexOptions.Singleline);

    private static CompositeKernel CreateKernel()
    {
        var csharp = new CSharpKernel()
            .UseNugetDirective((k, references) =>
            {
                k.AddAssemblyReferences(references.SelectMany(r => r.AssemblyPaths));
                return Task.CompletedTask;
            }, forceRestore: true);
        csharp.UseKernelHelpers();
        var kernel = new CompositeKernel { csharp };
        kernel.DefaultKernelName = csharp.Name;
        UseExtensionsOfPackages(kernel);
        return kernel;
    }

    /// <summary>As dotnet-interactive's KernelExtensionLoader: after a command, load the IKernelExtension types of each newly added package's interactive-extensions/dotnet folder.</summary>
    private static void UseExtensionsOfPackages(CompositeKernel kernel)
    {
        var added = new ConcurrentQueue<PackageAdded>();
        var loaded = new HashSet<string>(StringComparer.Ordinal);
        kernel.AddMiddleware(async (command, context, next) =>
        {
            await next(command, context);
            while (added.TryDequeue(out var package))
            {
                var folder = new DirectoryInfo(Path.Combine(package.PackageReference.PackageRoot, "interactive-extensions", "dotnet"));
                if (!folder.Exists) continue;
                foreach (var dll in folder.GetFiles("*.dll"))
                {
                    if (!loaded.Add(dll.FullName)) continue;
                    var assembly = AssemblyLoadContext.Default.LoadFromAssemblyPath(dll.FullName);
                    foreach (var type in assembly.ExportedTypes.Where(t => t is { IsAbstract: false, IsInterface: false, IsGenericTypeDefinition: false } && typeof(IKernelExtension).IsAssignableFrom(t)))
                    {
                        var extension = (IKernelExtension)Activator.CreateInstance(type)!;
                        await extension.OnLoadAsync(kernel);
                        context.Publish(new KernelExtensionLoaded(extension, context.Command));
                    }
                }
            }
        });
        kernel.RegisterForDisposal(kernel.KernelEvents.OfType<PackageAdded>().Subscribe(added.Enqueue));
    }

    /// <summary>Turns a command's events into the cell's outputs (as a notebook shows them); returns the error if it failed.</summary>
    private static string? Collect(IEnumerable<KernelEvent> events, List<InteractiveDocumentOutputElement> outputs)
    {
        var shown = new Dictionary<string, int>();
        string? error = null;
        foreach (var e in events)
        {
            switch (e)
            {
                case ReturnValueProduced value:
                    var returned = new ReturnValueElement();
                    foreach (var f in value.FormattedValues) returned.Data[f.MimeType] = f.Value;
                    outputs.Add(returned);
                    break;
                case DisplayedValueUpdated update when update.ValueId is { } id && shown.TryGetValue(id, out var index):
                    outputs[index] = Display(update);
                    break;
                case DisplayedValueProduced or DisplayedValueUpdated:
                    var display = (DisplayEvent)e;
                    if (display.ValueId is { } valueId) shown[valueId] = outputs.Count;
                    outputs.Add(Display(display));
                    break;
                case StandardOutputValueProduced stdout:
                    outputs.Add(new TextElement(stdout.FormattedValues.FirstOrDefault()?.Value, "stdout"));
                    break;
                case StandardErrorValueProduced stderr:
                    outputs.Add(new TextElement(stderr.FormattedValues.FirstOrDefault()?.Value, "stderr"));
                    break;
                case ErrorProduced produced:
                    outputs.Add(new ErrorElement(produced.Message));
                    break;
                case CommandFailed failed:
                    error ??= failed.Message;
                    outputs.Add(new ErrorElement(failed.Message, failed.Exception?.GetType().Name ?? "Error"));
                    break;
            }
        }
        return error;
    }

    private static DisplayElement Display(DisplayEvent e) => new(e.FormattedValues.ToDictionary(f => f.MimeType, f => (object)f.Value));
}
