namespace Experiments.Core;

/// <summary>Derives seeds deterministically. (HashCode.Combine is randomised per process, so it cannot seed anything reproducible.)</summary>
public static class Seeds
{
    /// <summary>A well-mixed non-negative seed from two values (SplitMix64's finaliser).</summary>
    public static int Mix(int a, int b)
    {
        var z = ((ulong)(uint)a << 32 | (uint)b) + 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)(z & int.MaxValue);
    }

    /// <summary>
    /// A seed for one named quantity (a metric label): mixed with a stable hash of the name (FNV-1a over its UTF-16
    /// code units), so the seed depends on what is drawn for, never on where it stands in a list.
    /// </summary>
    public static int Mix(int seed, string name)
    {
        var hash = 2166136261u;
        foreach (var c in name) hash = (hash ^ c) * 16777619u;
        return Mix(seed, (int)hash);
    }
}

/// <summary>
/// Options of a seeded trainer. <see cref="Seed"/> reads <see cref="DefaultSeed"/> until one is set; whether one was
/// set is kept, so that a catalog reached from an ML.NET MLContext can give the context's seed to options that leave
/// it unset (<see cref="WithSeedIfUnset"/>), as ML.NET's own trainers take theirs from the MLContext.
/// </summary>
public abstract record SeededOptions
{
    public const int DefaultSeed = 42;

    private readonly int? _seed;

    /// <summary>The seed of every random draw of the fit (initialisation, sampling, hold-outs); <see cref="DefaultSeed"/> when unset.</summary>
    public int Seed
    {
        get => _seed ?? DefaultSeed;
        init => _seed = value;
    }

    /// <summary>Whether <see cref="Seed"/> was set (to any value, <see cref="DefaultSeed"/> included).</summary>
    public bool HasSeed => _seed is not null;

    /// <summary>These options, or a copy seeded with <paramref name="seed"/> when they leave the seed unset and <paramref name="seed"/> is given.</summary>
    public SeededOptions WithSeedIfUnset(int? seed) => HasSeed || seed is null ? this : this with { Seed = seed.Value };
}
