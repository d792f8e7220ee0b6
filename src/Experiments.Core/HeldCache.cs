using System.Diagnostics;

namespace Experiments.Core;

/// <summary>
/// Values made ready once and shared, by key: each is built once even when several callers ask at the same time (the
/// others wait for that build), a build that fails is not kept (the next caller builds it again), and at most
/// <see cref="Capacity"/> values are kept. Callers use a value through a <see cref="Holding"/>; beyond the capacity the
/// least recently used built values no one holds are let go and disposed (one still held is kept until it is
/// released). Each value's build time is recorded, so a caller that found it built can count what it did not pay.
/// </summary>
/// <typeparam name="T">The values; those that are <see cref="IDisposable"/> are disposed when let go.</typeparam>
public sealed class HeldCache<T>(int capacity) : IDisposable where T : class
{
    internal sealed class Entry
    {
        public Entry(Func<T> build) => Value = new(() =>
        {
            var started = Stopwatch.GetTimestamp();
            StartedAt = started;
            var value = build();
            Seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            return value;
        }, LazyThreadSafetyMode.ExecutionAndPublication);

        public Lazy<T> Value { get; }
        /// <summary>When the build began (a <see cref="Stopwatch"/> timestamp) and how long it took; read once the value is built.</summary>
        public long StartedAt;
        public double Seconds;
        public int Holders;
        public long LastUsed;
    }

    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private long _uses;

    public int Capacity { get; } = capacity >= 1 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "At least one value.");

    /// <summary>The values kept now (built or being built; those held may go beyond <see cref="Capacity"/> until released).</summary>
    public int Count
    {
        get
        {
            lock (_entries) return _entries.Count;
        }
    }

    /// <summary>
    /// The value under <paramref name="key"/> (built by <paramref name="build"/> if it is not kept; a caller asking while
    /// another builds it waits for that build), held until the holding is disposed. A failed build's exception reaches
    /// its callers and nothing is kept.
    /// </summary>
    public Holding Hold(string key, Func<T> build)
    {
        var asked = Stopwatch.GetTimestamp();
        Entry entry;
        lock (_entries)
        {
            if (!_entries.TryGetValue(key, out entry!)) _entries[key] = entry = new Entry(build);
            entry.Holders++;
            entry.LastUsed = ++_uses;
        }
        try
        {
            _ = entry.Value.Value;
        }
        catch
        {
            lock (_entries)
            {
                entry.Holders--;
                if (_entries.TryGetValue(key, out var kept) && kept == entry) _entries.Remove(key);
            }
            throw;
        }
        lock (_entries) Trim();
        // The share of the build that ran before this caller asked: all of it when it found the value built, none when it built it.
        var prior = Math.Clamp((asked - entry.StartedAt) / (double)Stopwatch.Frequency, 0, entry.Seconds);
        return new Holding(this, entry, prior);
    }

    /// <summary>One caller's hold on a kept value.</summary>
    public sealed class Holding : IDisposable
    {
        private readonly HeldCache<T> _owner;
        private Entry? _entry;

        internal Holding(HeldCache<T> owner, Entry entry, double priorSeconds) => (_owner, _entry, PriorSeconds) = (owner, entry, priorSeconds);

        public T Value => (_entry ?? throw new ObjectDisposedException(nameof(Holding))).Value.Value;

        /// <summary>
        /// Seconds of the value's build that passed before this holding asked for it — the build time it did not spend
        /// itself: all of it when it found the value built, the part before it came when it waited for another's build,
        /// none when it built the value.
        /// </summary>
        public double PriorSeconds { get; }

        public void Dispose()
        {
            lock (_owner._entries)
            {
                if (_entry is null) return;
                _entry.Holders--;
                _entry = null;
                _owner.Trim();
            }
        }
    }

    /// <summary>Lets the least recently used built values no one holds go, down to the capacity (called under the lock).</summary>
    private void Trim()
    {
        while (_entries.Count > Capacity
               && _entries.Where(e => e.Value.Holders == 0 && e.Value.Value.IsValueCreated).OrderBy(e => e.Value.LastUsed).Select(e => e.Key).FirstOrDefault() is { } idle)
        {
            (_entries[idle].Value.Value as IDisposable)?.Dispose();
            _entries.Remove(idle);
        }
    }

    /// <summary>Disposes every built value and keeps none (the owner is done with them, held or not).</summary>
    public void Dispose()
    {
        lock (_entries)
        {
            foreach (var entry in _entries.Values)
                if (entry.Value.IsValueCreated) (entry.Value.Value as IDisposable)?.Dispose();
            _entries.Clear();
        }
    }
}
