using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Ctr;
using Experiments.Datasets;
using Experiments.Datasets.Splitting;
using Experiments.Evaluation.Classification;

namespace Experiments.Tests.Ctr;

[TestClass]
public sealed class CtrTests
{
    private static (ClickLog Train, ClickLog Test) Criteo(int seed = 1)
    {
        var log = ClickLog.From(RealData.Open("criteo-samples").Table("train"));
        var split = RowSplitter.Stratified(log.Labels.Select(l => l ? 1 : 0).ToArray(), 0.2, 0, seed);
        return (log.Subset(split.Train), log.Subset(split.Test));
    }

    [TestMethod]
    public void Every_trainer_learns_something_on_Criteo()
    {
        var (train, test) = Criteo();
        foreach (var algorithm in Enum.GetValues<CtrAlgorithm>())
        {
            var model = CtrTrainer.Fit(train, new CtrOptions { Algorithm = algorithm, NumberOfIterations = algorithm == CtrAlgorithm.FieldAwareFactorizationMachine ? 10 : 100 });
            var p = model.Predict(test);
            Assert.IsTrue(p.All(x => x is >= 0 and <= 1), algorithm.ToString());
            var auc = BinaryMetrics.RocAuc(test.Labels, p);
            Console.WriteLine($"{algorithm}: AUC {auc:F3}, log loss {BinaryMetrics.LogLoss(test.Labels, p):F3}");
            Assert.IsGreaterThan(0.6, auc, algorithm.ToString());
        }
    }

    [TestMethod]
    public void A_saved_model_reloads_and_scores_identically()
    {
        var (train, test) = Criteo();
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "ctr.zip");
        var model = CtrTrainer.Fit(train, new CtrOptions { Algorithm = CtrAlgorithm.LightGbm, Features = new CtrFeatureOptions { Crosses = [("C1", "C2")] } });
        model.Save(path);
        var loaded = CtrModel.Load(path);
        CollectionAssert.AreEqual(model.Predict(test), loaded.Predict(test));
    }

    [TestMethod]
    public void Bad_click_data_gives_clear_errors()
    {
        var (train, _) = Criteo();
        var onlyClicks = train.Subset(Enumerable.Range(0, train.Count).Where(r => train.Labels[r]).ToArray());
        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => CtrTrainer.Fit(onlyClicks, new CtrOptions())).Message, "only clicks");
        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => CtrTrainer.Fit(train, new CtrOptions { Features = new CtrFeatureOptions { Crosses = [("C1", "I3")] } })).Message, "Cannot cross 'C1' with 'I3'");
    }
}
