using Experiments.Search;

namespace Experiments.Tests.Search;

/// <summary>What a search split adds to its <see cref="Experiments.Core.HeldCache{T}"/> (tested there): each fit counts the build time of the parts it reused, once each.</summary>
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

    [TestMethod]
    public void A_part_asked_for_again_by_the_same_fit_counts_once_and_one_it_built_not_at_all()
    {
        using var components = new SearchComponents();
        using (var first = components.Take())
        {
            first.Get("slow", () => { Thread.Sleep(200); return new Part("slow"); });
            first.Get("slow", () => new Part("never"));
            Assert.AreEqual(0, first.ReusedSeconds, "it built the part itself");
        }
        using var once = components.Take();
        once.Get("slow", () => new Part("never"));
        using var twice = components.Take();
        twice.Get("slow", () => new Part("never"));
        twice.Get("slow", () => new Part("never"));
        Assert.IsGreaterThanOrEqualTo(0.2, once.ReusedSeconds);
        Assert.AreEqual(once.ReusedSeconds, twice.ReusedSeconds, "the second ask adds nothing");
    }

    [TestMethod]
    public void Keys_of_seeded_parts_differ_by_seed_and_others_leave_it_out()
    {
        var parameters = new Dictionary<string, object> { ["epochs"] = 3L };
        Assert.AreEqual("dense|epochs=3,l2=|1,2|seed=7", SearchComponents.Key("dense", parameters, ["l2", "epochs"], [1, 2], 7));
        Assert.AreEqual("bm25|epochs=3", SearchComponents.Key("bm25", parameters, ["epochs"]));
    }
}
