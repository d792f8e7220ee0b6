using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Experiments.Core;

namespace Experiments.Text;

/// <summary>How <see cref="TextVectors.Embed"/> embeds: the longest input in tokens, texts per batch, where, in which precision, with how many CPU threads, and whether vectors are L2-normalised.</summary>
public sealed record EmbeddingOptions(int MaxLength, int BatchSize = 64, string Device = "auto", string Precision = "auto", int Threads = 0, bool Normalize = true);

/// <summary>What <see cref="TextVectors.Embed"/> wrote.</summary>
public sealed record EmbeddingSummary(string Output, int Rows, int Dimension, int Truncated);

/// <summary>Sentence vectors of a list of texts, written to a file that other tools read: .npy (NumPy) or .tsv.</summary>
public static class TextVectors
{
    /// <summary>
    /// Embeds <paramref name="texts"/> in chunks (batched within each, batch size halved on out-of-memory) and writes one
    /// row per text, in input order, to <paramref name="output"/>; <paramref name="progress"/> hears the texts done so far.
    /// The file appears only once complete.
    /// </summary>
    public static EmbeddingSummary Embed(BertEncoder encoder, TextTokenizer tokenizer, IReadOnlyList<string> texts, string output, EmbeddingOptions options,
        Action<int>? progress = null, Action<string>? notice = null, CancellationToken cancel = default)
    {
        var dimension = encoder.Options.HiddenSize;
        using var writer = VectorFileWriter.Create(output, texts.Count, dimension);
        var trainer = new EncoderTrainer(encoder, tokenizer, new EncoderTrainingOptions
        {
            MaxLength = options.MaxLength, BatchSize = options.BatchSize, Device = options.Device, Precision = options.Precision, Threads = options.Threads, Notice = notice,
        });
        var truncated = 0;
        // Chunks of many batches: length bucketing still has room, and memory holds one chunk of vectors, not all.
        var chunk = Math.Max(1024, options.BatchSize * 16);
        for (var start = 0; start < texts.Count; start += chunk)
        {
            cancel.ThrowIfCancellationRequested();
            var encoded = new int[Math.Min(chunk, texts.Count - start)][];
            for (var i = 0; i < encoded.Length; i++)
            {
                encoded[i] = tokenizer.Encode(texts[start + i], options.MaxLength, out var cut);
                if (cut) truncated++;
            }
            using var vectors = trainer.EmbedAll(encoded, options.Normalize);
            using var cpu = vectors.cpu();
            writer.Write(cpu.data<float>().ToArray());
            progress?.Invoke(start + encoded.Length);
        }
        writer.Complete();
        return new EmbeddingSummary(output, texts.Count, dimension, truncated);
    }
}

/// <summary>
/// Writes a matrix of float32 rows as .npy (NumPy's format version 1.0: magic, header dict, little-endian C-order data)
/// or .tsv (one row per line, components separated by tabs, in the shortest form that reads back exactly). It writes
/// to a temporary file beside the target and moves it into place on <see cref="Complete"/>, so a failed run never
/// leaves a partial file under the requested name.
/// </summary>
public sealed class VectorFileWriter : IDisposable
{
    public static IReadOnlyList<string> Extensions { get; } = [".npy", ".tsv"];

    private readonly string _path;
    private readonly string _temporary;
    private readonly FileStream _stream;
    private readonly bool _npy;
    private readonly int _rows;
    private readonly int _dimension;
    private long _written;
    private bool _complete;

    private VectorFileWriter(string path, int rows, int dimension)
    {
        (_path, _rows, _dimension) = (path, rows, dimension);
        _npy = Path.GetExtension(path).Equals(".npy", StringComparison.OrdinalIgnoreCase);
        _temporary = path + ".partial";
        try
        {
            if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } folder) Directory.CreateDirectory(folder);
            _stream = File.Create(_temporary);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ExperimentsException($"{path}: cannot write the vectors there ({e.Message}).", e);
        }
        if (_npy) _stream.Write(NpyHeader(rows, dimension));
    }

    /// <summary>A writer for <paramref name="rows"/> × <paramref name="dimension"/> values; the extension (.npy or .tsv) picks the format.</summary>
    public static VectorFileWriter Create(string path, int rows, int dimension)
    {
        if (!Extensions.Contains(Path.GetExtension(path).ToLowerInvariant()))
            throw new ExperimentsException($"{path}: unknown vector file type '{Path.GetExtension(path)}'; allowed: {string.Join(", ", Extensions)}.");
        return new VectorFileWriter(path, rows, dimension);
    }

    /// <summary>Appends whole rows, given row after row.</summary>
    public void Write(ReadOnlySpan<float> values)
    {
        if (values.Length % _dimension != 0) throw new ArgumentException($"{values.Length} values are not whole rows of {_dimension}.");
        _written += values.Length / _dimension;
        if (_written > _rows) throw new InvalidOperationException($"More than the {_rows} rows declared.");
        if (_npy)
        {
            // NumPy's '<f4' is little-endian; so is every platform .NET runs this on (checked, not assumed).
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Writing .npy needs a little-endian machine.");
            _stream.Write(MemoryMarshal.AsBytes(values));
            return;
        }
        var line = new StringBuilder();
        for (var r = 0; r < values.Length; r += _dimension)
        {
            line.Clear();
            for (var c = 0; c < _dimension; c++)
            {
                if (c > 0) line.Append('\t');
                line.Append(values[r + c].ToString("R", CultureInfo.InvariantCulture));
            }
            line.Append('\n');
            _stream.Write(Encoding.UTF8.GetBytes(line.ToString()));
        }
    }

    /// <summary>Checks every declared row was written and moves the file into place (replacing an older one).</summary>
    public void Complete()
    {
        if (_written != _rows) throw new InvalidOperationException($"{_written} rows written of the {_rows} declared.");
        _stream.Dispose();
        File.Move(_temporary, _path, overwrite: true);
        _complete = true;
    }

    public void Dispose()
    {
        _stream.Dispose();
        if (!_complete && File.Exists(_temporary)) File.Delete(_temporary);
    }

    /// <summary>
    /// "\x93NUMPY", version 1.0, the header's length (uint16, little-endian), then the header: a Python dict literal of
    /// descr, fortran_order and shape, padded with spaces and ended by a newline so the data start at a multiple of 64.
    /// </summary>
    private static byte[] NpyHeader(int rows, int dimension)
    {
        var dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {dimension}), }}";
        var total = (10 + dict.Length + 1 + 63) / 64 * 64;
        var header = dict.PadRight(total - 10 - 1) + "\n";
        var bytes = new byte[total];
        bytes[0] = 0x93;
        Encoding.ASCII.GetBytes("NUMPY", bytes.AsSpan(1));
        bytes[6] = 1;
        bytes[7] = 0;
        BitConverter.TryWriteBytes(bytes.AsSpan(8), (ushort)header.Length);
        Encoding.ASCII.GetBytes(header, bytes.AsSpan(10));
        return bytes;
    }
}
