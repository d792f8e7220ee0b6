using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Text;

/// <summary>
/// Memory planning for CUDA. TorchSharp 0.107 lets a CUDA out-of-memory error inside some operations (matmul among
/// them) escape as a C++ exception that ends the process, so the batch size cannot be found by trial alone: before
/// training or embedding, the free memory (NVIDIA's management library, part of the driver) is compared with an
/// estimate of what one text costs, and the batch size is capped to fit.
/// </summary>
public static class GpuMemory
{
    private const string Nvml = "libnvidia-ml.so.1";

    /// <summary>Free and total bytes of a CUDA device; null where the driver's library cannot tell (then no cap is applied).</summary>
    public static (long Free, long Total)? Query(Device device)
    {
        if (device.type != DeviceType.CUDA) return null;
        try
        {
            if (nvmlInit_v2() != 0 || nvmlDeviceGetHandleByIndex_v2(PhysicalIndex(Math.Max(0, (int)device.index)), out var handle) != 0 || nvmlDeviceGetMemoryInfo(handle, out var memory) != 0)
                return null;
            return ((long)memory.Free, (long)memory.Total);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// Rough peak bytes per text of one step at <paramref name="length"/> tokens: per layer, the attention scores with
    /// their float32 softmax and dropout copies (heads·L² each), token states and projections (L·hidden) and the
    /// feed-forward (L·intermediate); training keeps every layer's activations for backward, inference about two layers'.
    /// Conservative on CUDA, where fused attention materialises no score matrix: better a smaller batch than an abort.
    /// </summary>
    public static long BytesPerText(EncoderOptions o, int length, ScalarType? compute, bool training)
    {
        long l = length, c = compute is null ? 4 : 2;
        var layer = o.AttentionHeads * l * l * (2 * c + 17) + l * o.HiddenSize * (8 * c + 28) + l * o.IntermediateSize * (3 * c + 4);
        return training ? layer * (o.Layers + 1) : layer * 2;
    }

    /// <summary>The largest batch whose estimate fits in 80% of <paramref name="freeBytes"/>.</summary>
    public static int MaxBatch(long freeBytes, long bytesPerText) => (int)Math.Min(int.MaxValue, (long)(freeBytes * 0.8) / Math.Max(1, bytesPerText));

    /// <summary>CUDA_VISIBLE_DEVICES renumbers devices for CUDA but not for the management library.</summary>
    private static uint PhysicalIndex(int cudaIndex)
    {
        var visible = Environment.GetEnvironmentVariable("CUDA_VISIBLE_DEVICES")?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return visible is { Length: > 0 } && cudaIndex < visible.Length && uint.TryParse(visible[cudaIndex], out var physical) ? physical : (uint)cudaIndex;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct NvmlMemory
    {
        public ulong Total;
        public ulong Free;
        public ulong Used;
    }

    [DllImport(Nvml)] private static extern int nvmlInit_v2();
    [DllImport(Nvml)] private static extern int nvmlDeviceGetHandleByIndex_v2(uint index, out IntPtr device);
    [DllImport(Nvml)] private static extern int nvmlDeviceGetMemoryInfo(IntPtr device, out NvmlMemory memory);
}
