using Experiments.Search;

namespace Experiments.Tests.Search;

/// <summary>The shared parts of a search split: reused while kept, bounded, never let go while a fit holds them.</summary>
[TestClass]
public sealed class SearchComponentsTests
{
    private sealed class Part(string key) : IDisposable
    {
        public string Key { get; } = key;
        public bool Disposed { get; private set; }
        public void Dispose() => Disposed = true;
    }

    [TestMethod]
    public void A_sweep_of_many_trials_keeps_at_most_the_capacity_and_disposes_the_least_recently_used()
    {
        using var components = new SearchComponents(capacity: 3);
        var built = new List<Part>();
        // Ten trials, each building a part of its own settings (as a sweep's BM25 trials do).
        for (var trial = 0; trial < 10; trial++)
        {
            using var lease = components.Take();
            var key = $"bm25|k1={trial}";
            lease.Get(key, () => { var p = new Part(key); built.Add(p); return p; });
            Assert.IsLessThanOrEqualTo(3, components.Count, $"after trial {trial}");
        }
        Assert.AreEqual(3, components.Count);
        CollectionAssert.AreEqual(Enumerable.Range(0, 7).Select(i => $"bm25|k1={i}").ToList(), built.Where(p => p.Disposed).Select(p => p.Key).ToList(), "the seven oldest are let go and disposed");

        // A kept part is reused (not built again), and that makes it the most recently used.
        using (var lease = components.Take())
            Assert.AreSame(built[7], lease.Get("bm25|k1=7", () => new Part("again")));
        using (var lease = components.Take())
            lease.Get("bm25|k1=10", () => new Part("bm25|k1=10"));
        Assert.IsFalse(built[7].Disposed, "reused just now, so not the least recently used");
        Assert.IsTrue(built[8].Disposed, "the least recently used went");
    }

    [TestMethod]
    public void A_part_a_fit_still_holds_is_not_let_go_until_its_lease_ends()
    {
        using var components = new SearchComponents(capacity: 2);
        var held = new Part("held");
        var fit = components.Take();
        fit.Get("held", () => held);
        // Parallel trials build and drop parts meanwhile: the held one is the oldest but stays.
        for (var trial = 0; trial < 4; trial++)
        {
            using var other = components.Take();
            other.Get($"other-{trial}", () => new Part($"other-{trial}"));
        }
        Assert.IsFalse(held.Disposed);
        Assert.AreEqual(2, components.Count, "the held part and the newest other one");
        fit.Dispose();
        Assert.IsFalse(held.Disposed, "released, and within the capacity: kept for reuse");
        using (var later = components.Take())
            later.Get("new", () => new Part("new"));
        Assert.IsTrue(held.Disposed, "now the least recently used beyond the capacity");
        Assert.AreEqual(2, components.Count);
    }

    [TestMethod]
    public void Each_fit_counts_the_build_time_of_the_parts_it_found_built()
    {
        using var components = new SearchComponents();
        using (var first = components.Take())
        {
            first.Get("slow", () => { Thread.Sleep(200); return new Part("slow"); });
            Assert.AreEqual(0, first.ReusedSeconds, "it built the part itself: its own clock counts it");
        }
        using var second = components.Take();
        using var third = components.Take();
        second.Get("slow", () => new Part("never"));
        Assert.IsGreaterThanOrEqualTo(0.2, second.ReusedSeconds);
        Assert.AreEqual(0, third.ReusedSeconds, "another fit's reuse is not this one's");
    }
}
