namespace Experiments.Runs;

/// <summary>
/// What a worker keeps made ready, by key: each value built once even when several callers ask at the same time (the
/// others wait for it), a build that fails is not kept (the next caller builds it again), and at most
/// <see cref="Capacity"/> values are kept. Callers use a value through a <see cref="Holding"/>; beyond the capacity the
/// least recently used values no one holds are let go and disposed (one still held is kept until it is released).
/// </summary>
internal sealed class HeldCache<T>(int capacity) where T : class, IDisposable
{
    internal sealed class Entry(Func<T> build)
    {
        public Lazy<T> Value { get; } = new(build, LazyThreadSafetyMode.ExecutionAndPublication);
        public int Holders;
        public long LastUsed;
    }

    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private long _uses;

    public int Capacity { get; } = capacity >= 1 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "At least one value.");

    /// <summary>The values kept now (built or being built).</summary>
    public int Count
    {
        get
        {
            lock (_entries) return _entries.Count;
        }
    }

    /// <summary>The value under <paramref name="key"/> (built by <paramref name="build"/> if it is not kept), held until the holding is disposed.</summary>
    public Holding Hold(string key, Func<T> build)
    {
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
        return new Holding(this, entry);
    }

    /// <summary>One caller's hold on a kept value.</summary>
    public sealed class Holding : IDisposable
    {
        private readonly HeldCache<T> _owner;
        private Entry? _entry;

        internal Holding(HeldCache<T> owner, Entry entry) => (_owner, _entry) = (owner, entry);

        public T Value => (_entry ?? throw new ObjectDisposedException(nameof(Holding))).Value.Value;

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
            _entries[idle].Value.Value.Dispose();
            _entries.Remove(idle);
        }
    }
}
