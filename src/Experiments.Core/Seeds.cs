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
