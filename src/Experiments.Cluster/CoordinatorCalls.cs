using Experiments.Core;

namespace Experiments.Cluster;

/// <summary>
/// A worker's calls to the coordinator, tried again after transient failures (the coordinator moving to another silo,
/// a timeout on a loaded machine) with a doubling pause, a bounded number of times.
/// </summary>
internal sealed record CoordinatorCalls(int Attempts, TimeSpan FirstPause, TimeSpan LongestPause)
{
    /// <summary>An intermediate value: a trial waits for the answer, so it is not retried for long (about 1.5 s).</summary>
    public static CoordinatorCalls Report { get; } = new(5, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(1));

    /// <summary>An outcome: worth waiting for while a new coordinator activates (about 20 s; Orleans declares a silo dead in ~4–8 s).</summary>
    public static CoordinatorCalls Complete { get; } = new(8, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(4));

    /// <summary>The call's answer; its last failure once every attempt has failed (a cancellation or an <see cref="ExperimentsException"/> at once).</summary>
    public async Task<T> CallAsync<T>(Func<Task<T>> call, CancellationToken cancel)
    {
        var pause = FirstPause;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call().ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException && e is not ExperimentsException && attempt < Attempts && !cancel.IsCancellationRequested)
            {
                await Task.Delay(pause, cancel).ConfigureAwait(false);
                pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, LongestPause.Ticks));
            }
        }
    }
}
