namespace Experiments.Sweeps.Benchmarks;

/// <summary>A function to minimise over a space, with its known minimum (regret = best found − minimum).</summary>
public sealed record TestFunction(string Name, SearchSpace Space, Func<ParameterSet, double> Evaluate, double Minimum);

/// <summary>
/// The standard test functions of the tuner benchmark (Surjanovic and Bingham's definitions), and a conditional space;
/// experiments/benchmarks/peers/optuna_peer.py defines the same four for Optuna.
/// </summary>
public static class TestFunctions
{
    public static IReadOnlyList<TestFunction> All { get; } = [Branin(), Hartmann6(), Rosenbrock4(), Conditional()];

    public static TestFunction Get(string name) =>
        All.FirstOrDefault(f => f.Name == name) ?? throw new Core.ExperimentsException(Core.Definitions.DefinitionValidator.UnknownValue($"test function '{name}'", name, All.Select(f => f.Name).ToList()) + ".");

    /// <summary>Branin–Hoo on [−5, 10] × [0, 15]; minimum 0.397887 at three points.</summary>
    public static TestFunction Branin() => new("branin",
        new SearchSpaceBuilder().Float("x1", -5, 10).Float("x2", 0, 15).Build(),
        p => BraninValue(p.Number("x1"), p.Number("x2")),
        0.39788735772973816);

    public static double BraninValue(double x1, double x2)
    {
        const double a = 1, r = 6, s = 10;
        var b = 5.1 / (4 * Math.PI * Math.PI);
        var c = 5 / Math.PI;
        var t = 1 / (8 * Math.PI);
        var u = x2 - b * x1 * x1 + c * x1 - r;
        return a * u * u + s * (1 - t) * Math.Cos(x1) + s;
    }

    private static readonly double[] HartmannAlpha = [1.0, 1.2, 3.0, 3.2];
    private static readonly double[,] HartmannA =
    {
        { 10, 3, 17, 3.5, 1.7, 8 },
        { 0.05, 10, 17, 0.1, 8, 14 },
        { 3, 3.5, 1.7, 10, 17, 8 },
        { 17, 8, 0.05, 10, 0.1, 14 },
    };
    private static readonly double[,] HartmannP =
    {
        { 0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886 },
        { 0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991 },
        { 0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650 },
        { 0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381 },
    };

    /// <summary>Hartmann 6-D on [0, 1]^6; minimum −3.32237.</summary>
    public static TestFunction Hartmann6()
    {
        var builder = new SearchSpaceBuilder();
        for (var j = 0; j < 6; j++) builder.Float($"x{j + 1}", 0, 1);
        return new("hartmann6", builder.Build(), p => Hartmann6Value(Enumerable.Range(1, 6).Select(j => p.Number($"x{j}")).ToArray()), -3.32236801141551);
    }

    public static double Hartmann6Value(double[] x)
    {
        var sum = 0.0;
        for (var i = 0; i < 4; i++)
        {
            var inner = 0.0;
            for (var j = 0; j < 6; j++) inner += HartmannA[i, j] * (x[j] - HartmannP[i, j]) * (x[j] - HartmannP[i, j]);
            sum += HartmannAlpha[i] * Math.Exp(-inner);
        }
        return -sum;
    }

    /// <summary>Rosenbrock 4-D on [−5, 10]^4; minimum 0 at (1, 1, 1, 1).</summary>
    public static TestFunction Rosenbrock4()
    {
        var builder = new SearchSpaceBuilder();
        for (var j = 0; j < 4; j++) builder.Float($"x{j + 1}", -5, 10);
        return new("rosenbrock4", builder.Build(), p => RosenbrockValue(Enumerable.Range(1, 4).Select(j => p.Number($"x{j}")).ToArray()), 0);
    }

    public static double RosenbrockValue(double[] x)
    {
        var sum = 0.0;
        for (var i = 0; i + 1 < x.Length; i++) sum += 100 * Math.Pow(x[i + 1] - x[i] * x[i], 2) + Math.Pow(1 - x[i], 2);
        return sum;
    }

    /// <summary>
    /// A conditional space: a shared log-scale rate, and one of three branches with its own parameters — Branin (a),
    /// a mixed real / integer / log-scale bowl (b, holding the global minimum 0), a shifted sphere (c).
    /// f = branch value + 0.1·(log10 rate + 2)².
    /// </summary>
    public static TestFunction Conditional() => new("conditional",
        new SearchSpaceBuilder()
            .Float("rate", 1e-4, 1, log: true)
            .Choice("branch", c => c
                .Option("a", s => s.Float("x1", -5, 10).Float("x2", 0, 15))
                .Option("b", s => s.Float("x", -5, 5).Integer("k", -10, 10).Float("scale", 1e-3, 10, log: true))
                .Option("c", s => s.Float("x1", 0, 1).Float("x2", 0, 1).Float("x3", 0, 1)))
            .Build(),
        ConditionalValue,
        0);

    public static double ConditionalValue(ParameterSet p)
    {
        var rate = Math.Log10(p.Number("rate")) + 2;
        var branch = p.Text("branch") switch
        {
            "a" => BraninValue(p.Number("branch.a.x1"), p.Number("branch.a.x2")),
            "b" => Math.Pow(p.Number("branch.b.x") - 1.2, 2) + 0.1 * Math.Pow(p.Integer("branch.b.k") - 3, 2) + Math.Pow(Math.Log10(p.Number("branch.b.scale")) + 1, 2),
            _ => 4 * (Math.Pow(p.Number("branch.c.x1") - 0.3, 2) + Math.Pow(p.Number("branch.c.x2") - 0.3, 2) + Math.Pow(p.Number("branch.c.x3") - 0.3, 2)) + 0.5,
        };
        return branch + 0.1 * rate * rate;
    }
}
