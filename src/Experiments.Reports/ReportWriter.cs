using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Experiments.Core;
using Experiments.Store;

namespace Experiments.Reports;

/// <summary>Writes a run's report from what the store holds (no training code, no data access).</summary>
public static class ReportWriter
{
    /// <summary>The formats a report can be written in.</summary>
    public static readonly IReadOnlyList<string> Formats = ["html", "markdown", "json", "pdf"];

    /// <summary>Writes the run's report in <paramref name="format"/> into <paramref name="folder"/> and returns its path.</summary>
    public static string Write(RunDetails run, string format, string folder)
    {
        var report = RunReport.From(run);
        return WriteDocument(format, folder, "report", () => RunReportDocument.Build(report), () => Json(report));
    }

    /// <summary>Writes a sweep's report (sweep-ID.html, .md, .json or .pdf) into <paramref name="folder"/> and returns its path.</summary>
    public static string WriteSweep(SweepReport report, string format, string folder) =>
        WriteDocument(format, folder, $"sweep-{report.Sweep.Id}", () => SweepReportDocument.Build(report), () => JsonSerializer.Serialize(report, JsonOptions));

    /// <summary>
    /// Writes one report document: HTML (one offline file), Markdown (charts as links to the HTML file of the same
    /// name), JSON (<paramref name="json"/>: the structured content), or PDF (the HTML printed by headless Chromium).
    /// </summary>
    public static string WriteDocument(string format, string folder, string name, Func<ReportDocument> document, Func<string> json)
    {
        Directory.CreateDirectory(folder);
        var html = Path.Combine(folder, name + ".html");
        switch (format)
        {
            case "html":
                Save(html, document().Html());
                return html;
            case "markdown":
                var md = Path.Combine(folder, name + ".md");
                Save(md, document().Markdown(name + ".html"));
                return md;
            case "json":
                var path = Path.Combine(folder, name + ".json");
                Save(path, json());
                return path;
            case "pdf":
                var chromium = Chromium.Find();
                var pdf = Path.Combine(folder, name + ".pdf");
                var page = Path.Combine(folder, $".{name}-print.html");
                Save(page, document().Html());
                try { chromium.PrintToPdf(page, pdf); }
                finally { File.Delete(page); }
                return pdf;
            default:
                throw new ExperimentsException($"Unknown report format '{format}'; allowed: {string.Join(", ", Formats)}.");
        }
    }

    public static string Sha256(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>The run's report as Markdown text (charts link to report.html beside it).</summary>
    public static string Markdown(RunDetails details) => RunReportDocument.Build(RunReport.From(details)).Markdown("report.html");

    /// <summary>The run's report as HTML text.</summary>
    public static string Html(RunDetails details) => RunReportDocument.Build(RunReport.From(details)).Html();

    public static string Json(RunReport report) => JsonSerializer.Serialize(report, JsonOptions);

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        // NaN and infinities (an undefined metric) are written as the strings "NaN", "Infinity" rather than failing the report.
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    private static void Save(string path, string text) => File.WriteAllText(path, text, new UTF8Encoding(false));
}
