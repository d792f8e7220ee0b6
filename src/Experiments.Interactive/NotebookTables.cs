using System.Globalization;
using System.Net;
using System.Reflection;
using Microsoft.AspNetCore.Html;

namespace Experiments.Interactive;

/// <summary>
/// Rows as one flat HTML table: a column per public property, a row per item. .NET Interactive shows a sequence of
/// records as a list of expandable trees, one per row; a leaderboard reads better as a table.
/// </summary>
public static class NotebookTables
{
    public static IHtmlContent ToHtmlTable<T>(this IEnumerable<T> rows)
    {
        var columns = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0).ToList();
        var html = new System.Text.StringBuilder("<table><thead><tr>");
        foreach (var column in columns) html.Append("<th>").Append(WebUtility.HtmlEncode(column.Name)).Append("</th>");
        html.Append("</tr></thead><tbody>");
        foreach (var row in rows)
        {
            html.Append("<tr>");
            foreach (var column in columns)
                html.Append("<td>").Append(WebUtility.HtmlEncode(Text(column.GetValue(row)))).Append("</td>");
            html.Append("</tr>");
        }
        return new HtmlString(html.Append("</tbody></table>").ToString());
    }

    /// <summary>A cell's text: numbers with four significant digits (round values first to show more), the rest as they print.</summary>
    private static string Text(object? value) => value switch
    {
        double d => d.ToString("G4", CultureInfo.InvariantCulture),
        float f => f.ToString("G4", CultureInfo.InvariantCulture),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };
}
