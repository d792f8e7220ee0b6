namespace Experiments.Core;

/// <summary>What a piece of work does with a GPU: nothing, the one its machine has if any (an encoder on device "auto"), or one it must have ("cuda", "cuda:N").</summary>
public enum GpuUse
{
    None,
    WhenPresent,
    Required,
}
