using System.Globalization;
using System.Net;
using System.Text;
using Plotly.NET;

namespace Experiments.Reports;

/// <summary>
/// A report as a list of blocks, rendered to one offline HTML file (charts drawn by the plotly.js it inlines) or to
/// Markdown (the same text and tables; each chart a link to its place in the HTML report). One document, two renderings,
/// so the formats never disagree.
/// </summary>
public sealed class ReportDocument(string title)
{
    private readonly List<Block> _blocks = [];
    private int _charts;

    public string Title { get; } = title;
    public IReadOnlyList<Block> Blocks => _blocks;

    public abstract record Block;
    public sealed record HeadingBlock(int Level, string Text) : Block;
    /// <summary>A paragraph; <see cref="Lead"/>, where given, is its first words in bold.</summary>
    public sealed record TextBlock(string Text, bool Emphasis = false, bool Warning = false, string? Lead = null) : Block;
    public sealed record BulletsBlock(IReadOnlyList<string> Items) : Block;
    /// <summary>A table; a cell's <see cref="Cell.Value"/> is kept exactly (round-trip) beside its rounded text.</summary>
    public sealed record TableBlock(string Id, IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<Cell>> Rows) : Block;
    public sealed record ChartBlock(string Id, string Title, GenericChart Chart) : Block;
    public sealed record CodeBlock(string Summary, string Language, string Code) : Block;

    /// <summary>A table cell: its text, the exact number behind it, and for a metric its interval (a second line in HTML).</summary>
    public sealed record Cell(string Text, double? Value = null, bool Number = false, string? Detail = null)
    {
        public static implicit operator Cell(string text) => new(text);
        /// <summary>A number shown rounded, with its exact value kept.</summary>
        public static Cell Of(double value, int digits = 4) => new(MetricCell.Number(value, digits), value, true);
        public static Cell Of(double? value, int digits = 4) => value is { } v ? Of(v, digits) : new Cell("—", null, true);
        /// <summary>A metric's value with its interval.</summary>
        public static Cell Of(MetricCell cell) =>
            new(MetricCell.Number(cell.Value), cell.Value, true, cell.Lower is { } lo && cell.Upper is { } hi ? $"[{MetricCell.Number(lo)}, {MetricCell.Number(hi)}]" : null);
        public string Full => Detail is null ? Text : $"{Text} {Detail}";
    }

    public void Heading(string text, int level = 2) => _blocks.Add(new HeadingBlock(level, text));
    public void Text(string text, bool emphasis = false, bool warning = false, string? lead = null) => _blocks.Add(new TextBlock(text, emphasis, warning, lead));
    public void Bullets(IEnumerable<string> items) => _blocks.Add(new BulletsBlock(items.ToList()));
    public void Table(string id, IReadOnlyList<string> columns, IEnumerable<IReadOnlyList<Cell>> rows) => _blocks.Add(new TableBlock(id, columns, rows.ToList()));
    public void Code(string summary, string language, string code) => _blocks.Add(new CodeBlock(summary, language, code));

    public void Chart(string title, GenericChart chart) => _blocks.Add(new ChartBlock($"chart-{++_charts}", title, chart));

    public int ChartCount => _charts;

    /// <summary>One self-contained HTML file: plotly.js inline in the head, every chart's div and script in the body.</summary>
    public string Html()
    {
        var html = new StringBuilder();
        html.AppendLine("<!DOCTYPE html>");
        html.AppendLine("<html lang=\"en\">");
        html.AppendLine("<head>");
        html.AppendLine("<meta charset=\"utf-8\">");
        html.AppendLine($"<title>{E(Title)}</title>");
        html.AppendLine($"<style>{Style}</style>");
        if (_charts > 0) html.AppendLine($"<script type=\"text/javascript\">{ReportCharts.PlotlyJs}</script>");
        html.AppendLine("</head>");
        html.AppendLine("<body>");
        html.AppendLine($"<h1>{E(Title)}</h1>");
        foreach (var block in _blocks)
        {
            switch (block)
            {
                case HeadingBlock h:
                    html.AppendLine($"<h{h.Level}>{E(h.Text)}</h{h.Level}>");
                    break;
                case TextBlock t:
                    html.AppendLine($"<p{(t.Warning ? " class=\"warning\"" : t.Emphasis ? " class=\"headline\"" : "")}>{(t.Lead is null ? "" : $"<strong>{E(t.Lead)}</strong> ")}{E(t.Text)}</p>");
                    break;
                case BulletsBlock b:
                    html.AppendLine("<ul>");
                    foreach (var item in b.Items) html.AppendLine($"<li>{E(item)}</li>");
                    html.AppendLine("</ul>");
                    break;
                case TableBlock t:
                    html.AppendLine($"<div class=\"table\"><table id=\"{t.Id}\">");
                    html.AppendLine($"<thead><tr>{string.Concat(t.Columns.Select(c => $"<th>{E(c)}</th>"))}</tr></thead>");
                    html.AppendLine("<tbody>");
                    foreach (var row in t.Rows)
                        html.AppendLine($"<tr>{string.Concat(row.Select(c => c.Value is { } v
                            ? $"<td class=\"num\" data-value=\"{v.ToString("R", CultureInfo.InvariantCulture)}\">{E(c.Text)}{(c.Detail is null ? "" : $"<span class=\"ci\">{E(c.Detail)}</span>")}</td>"
                            : $"<td{(c.Number ? " class=\"num\"" : "")}>{E(c.Text)}</td>"))}</tr>");
                    html.AppendLine("</tbody>");
                    html.AppendLine("</table></div>");
                    break;
                case ChartBlock c:
                    html.AppendLine($"<figure id=\"{c.Id}\" class=\"chart\"><figcaption>{E(c.Title)}</figcaption>");
                    html.AppendLine(ReportCharts.Html(c.Chart));
                    html.AppendLine("</figure>");
                    break;
                case CodeBlock c:
                    html.AppendLine($"<details><summary>{E(c.Summary)}</summary><pre><code>{E(c.Code)}</code></pre></details>");
                    break;
            }
        }
        html.AppendLine("</body>");
        html.AppendLine("</html>");
        return html.ToString();
    }

    /// <summary>The same document as Markdown; charts are links into <paramref name="htmlFile"/>.</summary>
    public string Markdown(string htmlFile)
    {
        var md = new StringBuilder();
        md.AppendLine($"# {Title}");
        md.AppendLine();
        foreach (var block in _blocks)
        {
            switch (block)
            {
                case HeadingBlock h:
                    md.AppendLine($"{new string('#', h.Level)} {h.Text}");
                    break;
                case TextBlock t:
                    var text = t.Lead is null ? t.Text : $"**{t.Lead}** {t.Text}";
                    md.AppendLine(t.Warning ? $"> {text}" : t.Emphasis ? $"**{text}**" : text);
                    break;
                case BulletsBlock b:
                    foreach (var item in b.Items) md.AppendLine($"- {item}");
                    break;
                case TableBlock t:
                    md.AppendLine($"| {string.Join(" | ", t.Columns.Select(MarkdownCell))} |");
                    var numeric = t.Columns.Select((_, i) => t.Rows.Count > 0 && t.Rows.All(r => i >= r.Count || r[i].Number)).ToList();
                    md.AppendLine($"|{string.Concat(numeric.Select(n => n ? "---:|" : "---|"))}");
                    foreach (var row in t.Rows) md.AppendLine($"| {string.Join(" | ", row.Select(c => MarkdownCell(c.Full)))} |");
                    break;
                case ChartBlock c:
                    md.AppendLine($"- Chart: [{c.Title}]({htmlFile}#{c.Id})");
                    break;
                case CodeBlock c:
                    md.AppendLine($"<details><summary>{c.Summary}</summary>");
                    md.AppendLine();
                    md.AppendLine($"```{c.Language}");
                    md.AppendLine(c.Code);
                    md.AppendLine("```");
                    md.AppendLine();
                    md.AppendLine("</details>");
                    break;
            }
            md.AppendLine();
        }
        return md.ToString();
    }

    private static string MarkdownCell(string text) => text.Replace("|", "\\|").Replace("\n", " ");

    private static string E(string text) => WebUtility.HtmlEncode(text);

    private const string Style = """
        body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto; max-width: 1180px; color: #1f2933; padding: 0 1rem; }
        h1 { font-size: 1.7rem; margin-bottom: .3rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #d9e2ec; padding-bottom: .2rem; } h3 { margin-top: 1.4rem; }
        p.headline { font-size: 1.15rem; background: #f0f7ff; border-left: 4px solid #2f80ed; padding: .7rem 1rem; }
        p.warning { background: #fff8e1; border-left: 4px solid #f2a900; padding: .6rem 1rem; }
        table { border-collapse: collapse; margin: .6rem 0 1rem; font-size: .88rem; }
        div.table { overflow-x: auto; }
        th, td { border: 1px solid #d9e2ec; padding: .25rem .55rem; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
        th { background: #f5f7fa; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; overflow-wrap: normal; }
        span.ci { display: block; color: #616e7c; font-size: .78rem; }
        figure.chart { display: inline-block; vertical-align: top; width: 570px; margin: .6rem .4rem .6rem 0; break-inside: avoid; } figcaption { font-weight: 600; margin-bottom: .3rem; }
        pre { background: #f5f7fa; padding: .8rem; overflow-x: auto; font-size: .8rem; }
        @media print { body { max-width: none; margin: 0; } h2 { break-after: avoid; } }
        """;
}
