using Experiments.Core;
using Experiments.Ctr;
using Experiments.Datasets;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Experiments.Tests.Ctr;

/// <summary>The click models' featurisation as ML.NET transforms, and the whole pipeline through mlContext.Model.Save / Load.</summary>
[TestClass]
public sealed class ClickPipelineTests
{
    private static readonly ClickLogSchema Schema = new("click", ["x"], ["shop", "colour"], []);

    private static ClickLog Log(float[] x, string[] shop, string[] colour) =>
        new(Schema, x.Select((_, r) => r % 2 == 0).ToArray(), [x], [shop, colour], [], null);

    /// <summary>Per row, the name of the hot slot of a one-hot column.</summary>
    private static string[] HotSlots(IDataView view, string column)
    {
        var names = default(VBuffer<ReadOnlyMemory<char>>);
        view.Schema[column].GetSlotNames(ref names);
        var slots = names.DenseValues().Select(n => n.ToString()).ToArray();
        return view.GetColumn<float[]>(column).Select(v => slots[Array.IndexOf(v, 1f)]).ToArray();
    }

    [TestMethod]
    public void Numeric_categorical_and_crossed_columns_are_featurised_by_MLNet_transforms_as_specified()
    {
        var train = Log([-3, 0, float.NaN, 5, 2, 2],
            ["a", "a", "a", "b", "c", "c"],
            ["red", "red", "blue", "red", "red", "red"]);
        var ml = new MLContext(1);
        var options = new CtrFeatureOptions { MinCategoryCount = 2, Crosses = [("shop", "colour")] };
        var (estimator, fields) = ClickFeatures.Estimator(ml, Schema, options, hasPosition: false);
        CollectionAssert.AreEqual(new[] { "NumericField", "C.shop", "C.colour", "C.shopxcolour" }, fields.ToArray());
        var fitted = estimator.Fit(ClickFeatures.Input(train));

        var score = Log([-3, 7, float.NaN], ["b", "z", "c"], ["red", "green", "red"]);
        var view = fitted.Transform(ClickFeatures.Input(score));
        // sign(x)·log(1 + |x|), computed here in double; missing stays missing until the indicator and imputation.
        var logged = view.GetColumn<float>("N.x").ToArray();
        Assert.AreEqual(-Math.Log(4), logged[0], 1e-6);
        Assert.AreEqual(Math.Log(8), logged[1], 1e-6);
        Assert.IsTrue(float.IsNaN(logged[2]));
        // Training counts: a 3, b 1, c 2 → b (rare) and z (never seen) share the "other" bucket; red 5, blue 1.
        CollectionAssert.AreEqual(new[] { "__other__", "__other__", "c" }, HotSlots(view, "C.shop"));
        CollectionAssert.AreEqual(new[] { "red", "__other__", "red" }, HotSlots(view, "C.colour"));
        // Crosses of the raw values: a|red 2, c|red 2 kept; b|red (1) and z|green (unseen) are other.
        CollectionAssert.AreEqual(new[] { "__other__", "__other__", "c|red" }, HotSlots(view, "C.shopxcolour"));
        // The missing-value indicator of the numeric block: 1 only for the NaN row; the imputed value is the training mean.
        var numeric = view.GetColumn<float[]>("NumericField").ToArray();
        CollectionAssert.AreEqual(new[] { 0f, 0f, 1f }, numeric.Select(v => v[1]).ToArray());
    }

    private static Dataset DemoShop() =>
        new DatasetLoader().Open(new DatasetRequest("demo-shop") { Options = new Dictionary<string, double> { ["users"] = 300, ["items"] = 150 } });

    /// <summary>Probabilities of a fitted ML.NET model on raw rows, as ML.NET computes them.</summary>
    private static float[] Probabilities(ITransformer model, ClickLog rows) => model.Transform(ClickFeatures.Input(rows)).GetColumn<float>("Probability").ToArray();

    [TestMethod]
    public void The_whole_click_pipeline_saves_with_MLNet_and_scores_raw_rows_bit_for_bit_in_a_fresh_MLContext()
    {
        var log = ClickLog.From(DemoShop().Table("clicks"));
        var train = log.Subset(Enumerable.Range(0, log.Count).Where(r => r % 5 != 0).ToArray());
        var held = log.Subset(Enumerable.Range(0, log.Count).Where(r => r % 5 == 0).Take(300).ToArray());
        var user = log.Schema.Categorical.ToList().IndexOf("user");
        var brand = log.Schema.Categorical.ToList().IndexOf("brand");
        var price = log.Schema.Numeric.ToList().IndexOf("price");
        // The rarest training user is rare (below the minimum count), so that it and an unseen user fall in the same bucket.
        var rarest = train.Categorical[user].GroupBy(u => u).OrderBy(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).First();
        var crafted = held.Subset([0, 0, 0, 0, 1]);
        crafted.Categorical[user][0] = "nobody-ever";
        crafted.Categorical[user][1] = rarest.Key;
        crafted.Categorical[brand][2] = "unheard-of brand";
        crafted.Numeric[price][3] = float.NaN;
        crafted.Text[0][4] = "";
        crafted.Text[1][4] = "★ ½ 65'' ünseen wörds";
        crafted.Position![4] = 9;
        var rows = ClickLog.Concatenate(held, crafted);

        using var folder = new TempFolder();
        foreach (var algorithm in new[] { CtrAlgorithm.LightGbm, CtrAlgorithm.LogisticRegression, CtrAlgorithm.FieldAwareFactorizationMachine })
        {
            var model = CtrTrainer.Fit(train, new CtrOptions
            {
                Algorithm = algorithm, NumberOfIterations = 20,
                Features = new CtrFeatureOptions { MinCategoryCount = rarest.Count() + 1, Crosses = [("category", "query_category")], ServingPosition = 2 },
            });
            var path = Path.Combine(folder.Path, $"{algorithm}.zip");
            new MLContext(5).Model.Save(model.Pipeline, model.InputSchema, path);

            var fresh = new MLContext();
            var loaded = fresh.Model.Load(path, out var inputSchema);
            CollectionAssert.AreEqual(model.InputSchema.Select(c => (c.Name, c.Type)).ToList(), inputSchema.Select(c => (c.Name, c.Type)).ToList(), algorithm.ToString());
            var expected = model.Predict(rows);
            var actual = Probabilities(loaded, rows);
            CollectionAssert.AreEqual(expected.Select(p => BitConverter.SingleToInt32Bits((float)p)).ToArray(), actual.Select(BitConverter.SingleToInt32Bits).ToArray(), $"{algorithm}: bit for bit after Model.Load");
            CollectionAssert.AreEqual(expected, CtrModel.Load(path).Predict(rows), $"{algorithm}: CtrModel.Load reads the same file");

            var n = held.Count;
            Assert.AreEqual(actual[n], actual[n + 1], $"{algorithm}: an unseen user scores as the rare user (both in the other bucket)");
            Assert.AreEqual(Probabilities(loaded, rows.AtPosition(2))[n + 4], actual[n + 4], $"{algorithm}: the saved pipeline scores at the serving position");
            Assert.IsTrue(actual.All(p => p is > 0 and < 1 && float.IsFinite(p)), $"{algorithm}: missing price, unseen brand and empty text score as probabilities");
        }
    }

    [TestMethod]
    public void Rows_without_a_column_the_model_reads_are_a_clear_error()
    {
        var log = ClickLog.From(DemoShop().Table("clicks"));
        var model = CtrTrainer.Fit(log, new CtrOptions { Algorithm = CtrAlgorithm.LogisticRegression });
        var schema = log.Schema with { Categorical = log.Schema.Categorical.Where(c => c != "brand").ToList() };
        var without = new ClickLog(schema, log.Labels, log.Numeric, log.Categorical.Where((_, i) => log.Schema.Categorical[i] != "brand").ToArray(), log.Text, log.Position);
        StringAssert.StartsWith(Assert.ThrowsExactly<ExperimentsException>(() => model.Predict(without)).Message, "The click model reads column 'brand' (String), which these rows lack;");
    }
}
