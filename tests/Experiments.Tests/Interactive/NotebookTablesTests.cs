using Experiments.Interactive;
using Experiments.Reports;

namespace Experiments.Tests.Interactive;

[TestClass]
public sealed class NotebookTablesTests
{
    private sealed record Row(string Model, double Rmse, int Trials, string? Note);

    [TestMethod]
    public void Rows_become_one_flat_table_with_a_column_per_property_and_encoded_cells()
    {
        var html = new[] { new Row("mf <als>", 0.871234, 12, null), new Row("bias & co", 1.5, 3, "x") }.ToHtmlTable().ToString();
        Assert.AreEqual(
            "<table><thead><tr><th>Model</th><th>Rmse</th><th>Trials</th><th>Note</th></tr></thead><tbody>"
            + "<tr><td>mf &lt;als&gt;</td><td>0.8712</td><td>12</td><td></td></tr>"
            + "<tr><td>bias &amp; co</td><td>1.5</td><td>3</td><td>x</td></tr>"
            + "</tbody></table>", html);
    }

    [TestMethod]
    public void A_result_table_shows_each_metric_with_its_interval()
    {
        var table = new ResultTable(["ndcg@10"], [new ResultRow("knn", "item-knn", "s", "finished",
            new Dictionary<string, MetricCell> { ["ndcg@10"] = new(0.25, 0.2, 0.3, "bootstrap") }, 1.24, null)], []);
        Assert.AreEqual("<table><thead><tr><th>model</th><th>ndcg@10</th><th>fit (s)</th></tr></thead><tbody>"
            + "<tr><td>knn</td><td>0.2500 [0.2000, 0.3000]</td><td>1.2</td></tr></tbody></table>", NotebookFormatters.Html(table));
    }

    [TestMethod]
    public void The_work_folder_follows_the_variable_and_is_created()
    {
        var root = Path.Combine(Path.GetTempPath(), $"notebook-folders-{Guid.NewGuid():N}");
        var before = Environment.GetEnvironmentVariable(NotebookFolders.Variable);
        try
        {
            Environment.SetEnvironmentVariable(NotebookFolders.Variable, root);
            Assert.AreEqual(Path.Combine(root, "automl"), NotebookFolders.For("automl"));
            Assert.IsTrue(Directory.Exists(Path.Combine(root, "automl")));
        }
        finally
        {
            Environment.SetEnvironmentVariable(NotebookFolders.Variable, before);
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }
}
