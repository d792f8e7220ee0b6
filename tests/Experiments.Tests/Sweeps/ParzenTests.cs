using Experiments.Sweeps;
using Experiments.Sweeps.Tuners;

namespace Experiments.Tests.Sweeps;

/// <summary>
/// The Parzen estimator against Optuna 3.1's _ParzenEstimator (recorded with
/// <c>/usr/bin/python3 -c "from optuna.samplers._tpe.parzen_estimator import ..."</c>, the script in the comment below).
/// For integers (discrete kernels) Optuna 3.1 is the reference as it is. For reals, Optuna 3.1's truncated-normal
/// log-density omits −log σ (optuna/optuna#5109, fixed by #5110 in 3.5); the reference there is scipy's
/// truncnorm mixture, which is what Optuna computes since the fix.
/// </summary>
[TestClass]
public sealed class ParzenTests
{
    // import numpy as np; from optuna import distributions as D
    // from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator as PE, _ParzenEstimatorParameters as PP
    // from optuna.samplers._tpe.sampler import default_weights
    // for mv in (False, True):
    //   p = PP(True, 1.0, True, False, default_weights, mv)
    //   print(PE({"k": np.array([1., 2., 2., 5.])}, {"k": D.IntDistribution(1, 5)}, p).log_pdf({"k": np.array([1, 3, 5])}))
    //   pe = PE({"x": np.array([0.1, 0.35, 0.8])}, {"x": D.FloatDistribution(0, 1)}, p)
    //   from scipy.stats import truncnorm; mu, s, w = pe._mus["x"], pe._sigmas["x"], pe._weights
    //   print([np.log(sum(w * truncnorm.pdf(x, (0 - mu) / s, (1 - mu) / s, mu, s))) for x in (0.05, 0.3, 0.5, 0.9)])
    private static readonly double[] IntegerUnivariate = [-1.33824296, -1.58950415, -2.22224759];
    private static readonly double[] IntegerMultivariate = [-1.34046387, -1.83542064, -1.81158201];
    private static readonly double[] RealUnivariate = [0.06214173, 0.21223142, 0.06318386, -0.34851082];
    private static readonly double[] RealMultivariate = [0.09863472, 0.20096230, -0.05883712, -0.25410320];

    [TestMethod]
    [DataRow(false)]
    [DataRow(true)]
    public void Log_densities_match_the_reference(bool multivariate)
    {
        var settings = new TpeSettings { Multivariate = multivariate };
        var space = new SearchSpaceBuilder().Float("x", 0, 1).Integer("k", 1, 5).Build();
        var (x, k) = (space.Encoding.Dimensions[0], space.Encoding.Dimensions[1]);
        var integers = new ParzenEstimator([k], new long[] { 1, 2, 2, 5 }.Select(v => new[] { k.Encode(v) }).ToList(), settings)
            .LogPdf(new long[] { 1, 3, 5 }.Select(v => new[] { k.Encode(v) }).ToList());
        var reals = new ParzenEstimator([x], new[] { 0.1, 0.35, 0.8 }.Select(v => new[] { v }).ToList(), settings)
            .LogPdf(new[] { 0.05, 0.3, 0.5, 0.9 }.Select(v => new[] { v }).ToList());
        var (expectedIntegers, expectedReals) = multivariate ? (IntegerMultivariate, RealMultivariate) : (IntegerUnivariate, RealUnivariate);
        for (var i = 0; i < integers.Length; i++) Assert.AreEqual(expectedIntegers[i], integers[i], 1e-7);
        for (var i = 0; i < reals.Length; i++) Assert.AreEqual(expectedReals[i], reals[i], 1e-7);
    }

    [TestMethod]
    public void Optunas_default_weights_ramp_after_25_observations()
    {
        CollectionAssert.AreEqual(Enumerable.Repeat(1.0, 24).ToArray(), ParzenEstimator.DefaultWeights(24));
        // numpy.linspace(1/30, 1, 5) then 25 ones.
        var w = ParzenEstimator.DefaultWeights(30);
        CollectionAssert.AreEqual(new[] { 1 / 30.0, 1 / 30.0 + (29 / 30.0) / 4, 1 / 30.0 + 2 * (29 / 30.0) / 4, 1 / 30.0 + 3 * (29 / 30.0) / 4, 1.0 }, w.Take(5).ToArray());
        Assert.IsTrue(w.Skip(5).All(v => v == 1));
    }
}
