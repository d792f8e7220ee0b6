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
}
