using Experiments.Core;

namespace Experiments.Text;

/// <summary>
/// Runs work batch by batch; when a batch runs out of memory (GPU or CPU), halves the batch size, splits that batch and
/// every later one to the new size, and goes on. One row that still does not fit ends the work with a clear message.
/// </summary>
public sealed class AdaptiveBatchSize(int initial, string where, Action<string>? notice = null)
{
    public int Current { get; private set; } = initial > 0 ? initial : throw new ExperimentsException($"The batch size must be positive, not {initial}.");

    /// <summary>
    /// Lowers the batch size to what the device's free memory allows for texts of <paramref name="bytesPerText"/>
    /// (see <see cref="GpuMemory"/>); fails clearly when not even one text fits.
    /// </summary>
    public void FitMemory(TorchSharp.torch.Device device, long bytesPerText, int length)
    {
        if (GpuMemory.Query(device) is not { } memory) return;
        var maximum = GpuMemory.MaxBatch(memory.Free, bytesPerText);
        if (maximum >= Current) return;
        var needed = $"about {bytesPerText / 1048576.0:F1} MiB per text of {length} tokens";
        if (maximum < 1) throw Hopeless($"{needed}, {memory.Free / 1073741824.0:F1} GiB free");
        notice?.Invoke($"A batch of {Current} texts would not fit in {where}'s free memory ({needed}); going on with {maximum}.");
        Current = maximum;
    }

    public void ForEach(IEnumerable<int[]> batches, Action<int[]> work)
    {
        var pending = new Stack<int[]>(batches.Reverse());
        while (pending.TryPop(out var batch))
        {
            if (batch.Length > Current)
            {
                for (var start = (batch.Length - 1) / Current * Current; start >= 0; start -= Current)
                    pending.Push(batch[start..Math.Min(start + Current, batch.Length)]);
                continue;
            }
            try
            {
                work(batch);
            }
            catch (Exception e) when (IsOutOfMemory(e))
            {
                if (batch.Length == 1) throw Hopeless(e.Message.Split('\n')[0].Trim(), e);
                Current = batch.Length / 2;
                notice?.Invoke($"Out of memory on {where} with {batch.Length} texts per batch; going on with {Current}.");
                GC.Collect();
                GC.WaitForPendingFinalizers();
                pending.Push(batch);
            }
        }
    }

    /// <summary>libtorch's allocation failures: CUDA's "CUDA out of memory", the CPU allocator's "can't allocate memory".</summary>
    public static bool IsOutOfMemory(Exception e) =>
        e.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("can't allocate memory", StringComparison.OrdinalIgnoreCase);

    private ExperimentsException Hopeless(string detail, Exception? cause = null) =>
        new($"Out of memory on {where} even with one text per batch: lower the maximum length or the encoder's size, or use another device ({detail}).", cause);
}
