namespace Experiments.Sweeps.Tuners;

/// <summary>
/// A search strategy. The driver calls <see cref="Update"/> with each result in trial order and <see cref="Propose"/>
/// for each new trial; a tuner is deterministic: the same seed and the same sequence of calls give the same proposals.
/// Tuners minimise <see cref="TrialResult.Loss"/>.
/// </summary>
public interface ITuner
{
    /// <summary>Name and settings, recorded with the sweep (a resumed sweep must use the same).</summary>
    string Description { get; }

    /// <summary>The parameters of trial <see cref="SweepHistory.Number"/>, or null when the tuner has nothing left to try (a finished grid).</summary>
    ParameterSet? Propose(SweepHistory history);

    /// <summary>The result of a trial, in trial order (whoever proposed it).</summary>
    void Update(TrialResult result);
}

/// <summary>Uniform random search over the encoding (log scales and discrete cells respected).</summary>
public sealed class RandomTuner(SearchSpace space, int seed) : ITuner
{
    private readonly SweepRandom _random = new(seed);

    public string Description => $"random(seed={seed})";

    public ParameterSet? Propose(SweepHistory history) => Sample(space.Encoding, _random);

    public void Update(TrialResult result) { }

    internal static ParameterSet Sample(SpaceEncoding encoding, SweepRandom random) => encoding.Decode(SamplePoint(encoding, random));

    internal static double[] SamplePoint(SpaceEncoding encoding, SweepRandom random)
    {
        var u = new double[encoding.Count];
        for (var d = 0; d < u.Length; d++) u[d] = random.NextDouble();
        return u;
    }
}
