using Experiments.Core;

namespace Experiments.Tests.Core;

/// <summary>Values built once per key, bounded, and disposed when let go — never while a caller holds them (a worker's prepared sweeps, a search split's parts).</summary>
[TestClass]
public sealed class HeldCacheTests
{
    private sealed class Prepared(string name) : IDisposable
    {
        public string Name { get; } = name;
        public int Disposed;
        public void Dispose() => Disposed++;
    }

    [TestMethod]
    public void Values_let_go_beyond_the_capacity_are_disposed_once_no_one_holds_them()
    {
        var cache = new HeldCache<Prepared>(capacity: 2);
        var built = new List<Prepared>();
        Prepared Build(string name)
        {
            var value = new Prepared(name);
            built.Add(value);
            return value;
        }

        var a = cache.Hold("a", () => Build("a"));
        using (cache.Hold("b", () => Build("b"))) { }
        // A trial still runs on a (held): a third sweep lets the least recently used idle one (b) go, and disposes it.
        using (var c = cache.Hold("c", () => Build("c"))) Assert.AreEqual("c", c.Value.Name);
        Assert.AreEqual(2, cache.Count);
        CollectionAssert.AreEqual(new[] { 0, 1, 0 }, built.Select(p => p.Disposed).ToArray(), "b disposed, a held, c kept");

        // Asked for again, b is built anew (and c, now the least recently used idle one, goes as a is still held).
        using (var again = cache.Hold("b", () => Build("b"))) Assert.AreNotSame(built[1], again.Value);
        Assert.AreEqual(4, built.Count);
        CollectionAssert.AreEqual(new[] { 0, 1, 1, 0 }, built.Select(p => p.Disposed).ToArray());

        // a's trial ends: a and b are the two kept, nothing goes.
        a.Dispose();
        a.Dispose(); // a second release changes nothing
        Assert.AreEqual(2, cache.Count);
        CollectionAssert.AreEqual(new[] { 0, 1, 1, 0 }, built.Select(p => p.Disposed).ToArray());

        // A fourth sweep: a, last used before b, goes now that no trial holds it.
        using (cache.Hold("d", () => Build("d"))) { }
        CollectionAssert.AreEqual(new[] { 1, 1, 1, 0, 0 }, built.Select(p => p.Disposed).ToArray());
    }

    [TestMethod]
    public void A_held_value_over_the_capacity_is_disposed_when_its_last_holder_lets_it_go()
    {
        var cache = new HeldCache<Prepared>(capacity: 1);
        var first = new Prepared("first");
        var trialOne = cache.Hold("first", () => first);
        var trialTwo = cache.Hold("first", () => throw new InvalidOperationException("built once"));
        var second = new Prepared("second");
        using (cache.Hold("second", () => second))
        {
            Assert.AreEqual((0, 2), (first.Disposed, cache.Count), "both held: over the capacity until one is let go");
            trialOne.Dispose();
            Assert.AreEqual(0, first.Disposed, "still held by one trial");
            trialTwo.Dispose();
            Assert.AreEqual((1, 1), (first.Disposed, cache.Count), "let go with its last holder");
        }
        Assert.AreEqual(0, second.Disposed);
    }

    [TestMethod]
    public void Callers_at_the_same_time_share_one_build_and_a_failed_build_is_tried_again()
    {
        var cache = new HeldCache<Prepared>(capacity: 2);
        var builds = 0;
        using var started = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        Prepared Slow()
        {
            Interlocked.Increment(ref builds);
            started.Set();
            release.Wait();
            return new Prepared("slow");
        }
        var first = Task.Run(() => cache.Hold("k", Slow));
        started.Wait();
        var second = Task.Run(() => cache.Hold("k", Slow));
        Thread.Sleep(100);
        release.Set();
        using var one = first.Result;
        using var two = second.Result;
        Assert.AreEqual(1, builds);
        Assert.AreSame(one.Value, two.Value);

        // The data missing: the failure reaches the caller, nothing is kept, and the next caller builds again.
        var attempts = 0;
        Assert.ThrowsExactly<IOException>(() => cache.Hold("missing", () => { attempts++; throw new IOException("no data"); }));
        Assert.AreEqual(1, cache.Count);
        using (var found = cache.Hold("missing", () => { attempts++; return new Prepared("found"); })) Assert.AreEqual("found", found.Value.Name);
        Assert.AreEqual(2, attempts);
    }

    [TestMethod]
    public void A_holder_that_found_the_value_built_is_told_its_build_time_and_disposing_the_cache_disposes_every_value()
    {
        var cache = new HeldCache<Prepared>(capacity: 2);
        var slow = new Prepared("slow");
        using (var builder = cache.Hold("slow", () => { Thread.Sleep(200); return slow; }))
            Assert.AreEqual(0, builder.PriorSeconds, "it built the value: the time was its own");
        using (var finder = cache.Hold("slow", () => throw new InvalidOperationException("built once")))
            Assert.IsGreaterThanOrEqualTo(0.2, finder.PriorSeconds);
        var held = cache.Hold("held", () => new Prepared("held"));
        var value = held.Value;
        cache.Dispose();
        Assert.AreEqual((1, 1, 0), (slow.Disposed, value.Disposed, cache.Count));
    }
}
