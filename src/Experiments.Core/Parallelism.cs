using System.Runtime.ExceptionServices;

namespace Experiments.Core;

/// <summary>Parallel loops that let a user-facing error through as itself, not wrapped in an AggregateException.</summary>
public static class Parallelism
{
    public static void For<TLocal>(int from, int to, ParallelOptions options, Func<TLocal> init, Func<int, ParallelLoopState, TLocal, TLocal> body, Action<TLocal> finish)
    {
        try
        {
            Parallel.For(from, to, options, init, body, finish);
        }
        catch (AggregateException e) when (e.InnerExceptions.FirstOrDefault(x => x is ExperimentsException or OperationCanceledException) is { } inner)
        {
            ExceptionDispatchInfo.Capture(inner).Throw();
        }
    }
}
