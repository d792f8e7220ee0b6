using Experiments.Store;
using Experiments.Sweeps;

namespace Experiments.Tests.Sweeps;

/// <summary>Reads, from outside, how far a sweep written by another process has got.</summary>
internal static class SweepStoreProbe
{
    /// <summary>Trials of the store's first sweep that have finished (0 while the store or the sweep does not exist yet).</summary>
    public static int FinishedTrials(string store)
    {
        if (!File.Exists(store)) return 0;
        try
        {
            using var opened = SqliteRunStore.Open(store);
            return opened.ListSweeps().Count == 0 ? 0 : opened.GetTrials(1).Count(t => t.Status.IsFinal());
        }
        catch (Experiments.Core.ExperimentsException)
        {
            return 0; // the store is being created
        }
    }
}
