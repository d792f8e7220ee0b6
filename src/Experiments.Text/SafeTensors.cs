using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Experiments.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Text;

/// <summary>
/// Reads and writes the safetensors format (Hugging Face's model.safetensors): an 8-byte little-endian header length,
/// a JSON header mapping each tensor name to its dtype, shape and byte range, then the raw little-endian data.
/// F32 is written; a file is read tensor by tensor (files above 2 GB included), F32, F16, BF16 and F64 as float32;
/// tensors of other types (an int64 position_ids buffer) are listed with their type and read only if asked for.
/// </summary>
public static class SafeTensors
{
    public static void Write(string path, IEnumerable<(string Name, Tensor Tensor)> tensors)
    {
        var list = tensors.Select(t => (t.Name, Data: t.Tensor.detach().cpu().to_type(ScalarType.Float32).contiguous())).ToList();
        var header = new Dictionary<string, object> { ["__metadata__"] = new Dictionary<string, string> { ["format"] = "pt" } };
        long offset = 0;
        foreach (var (name, data) in list)
        {
            var bytes = data.numel() * 4;
            header[name] = new { dtype = "F32", shape = data.shape, data_offsets = new[] { offset, offset + bytes } };
            offset += bytes;
        }
        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        // The header is padded with spaces to a multiple of 8 bytes, as the reference implementation does.
        var padded = (json.Length + 7) / 8 * 8;
        using var stream = File.Create(path);
        stream.Write(BitConverter.GetBytes((ulong)padded));
        stream.Write(json);
        for (var i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
        foreach (var (_, data) in list)
        {
            stream.Write(MemoryMarshal.AsBytes(data.data<float>().ToArray().AsSpan()));
            data.Dispose();
        }
    }

    /// <summary>One tensor's entry in a file's header.</summary>
    public sealed record Entry(string Name, string DType, long[] Shape, long Start, long End);

    /// <summary>The header of <paramref name="path"/>: every tensor's name, type, shape and byte range, in file order.</summary>
    public static IReadOnlyList<Entry> Entries(string path)
    {
        using var file = OpenFile(path);
        return ReadHeader(path, file).Entries;
    }

    /// <summary>The floating-point tensors of <paramref name="path"/> that <paramref name="wanted"/> selects, as float32 on the CPU.</summary>
    public static Dictionary<string, Tensor> Read(string path, Func<Entry, bool>? wanted = null)
    {
        using var file = OpenFile(path);
        var (entries, dataStart) = ReadHeader(path, file);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var entry in entries.Where(e => wanted?.Invoke(e) ?? true))
        {
            var width = entry.DType switch
            {
                "F32" => 4,
                "F16" or "BF16" => 2,
                "F64" => 8,
                _ => throw new ExperimentsException($"{path}: tensor '{entry.Name}' has dtype {entry.DType}; a weight must be F32, F16, BF16 or F64."),
            };
            var count = entry.Shape.Aggregate(1L, (a, b) => a * b);
            if (entry.End - entry.Start != count * width)
                throw new ExperimentsException($"{path}: tensor '{entry.Name}' has {entry.End - entry.Start} bytes for shape [{string.Join(", ", entry.Shape)}] of {entry.DType}.");
            var bytes = new byte[entry.End - entry.Start];
            file.Position = dataStart + entry.Start;
            file.ReadExactly(bytes);
            float[] values = entry.DType switch
            {
                "F32" => MemoryMarshal.Cast<byte, float>(bytes).ToArray(),
                "F16" => MemoryMarshal.Cast<byte, Half>(bytes).ToArray().Select(h => (float)h).ToArray(),
                "BF16" => MemoryMarshal.Cast<byte, ushort>(bytes).ToArray().Select(b => BitConverter.Int32BitsToSingle(b << 16)).ToArray(),
                _ => MemoryMarshal.Cast<byte, double>(bytes).ToArray().Select(d => (float)d).ToArray(),
            };
            tensors[entry.Name] = tensor(values, entry.Shape);
        }
        return tensors;
    }

    private static FileStream OpenFile(string path)
    {
        if (!File.Exists(path)) throw new ExperimentsException($"{path}: no such safetensors file.");
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ExperimentsException($"{path}: the safetensors file cannot be read ({e.Message}).", e);
        }
    }

    private static (List<Entry> Entries, long DataStart) ReadHeader(string path, FileStream file)
    {
        var prefix = new byte[8];
        if (file.Length < 8 || file.Read(prefix) < 8) throw new ExperimentsException($"{path} is too short to be a safetensors file.");
        var headerLength = BitConverter.ToUInt64(prefix);
        if (headerLength == 0 || headerLength > 100_000_000 || 8 + (long)headerLength > file.Length)
            throw new ExperimentsException($"{path}: the safetensors header length ({headerLength}) does not fit the file ({file.Length} bytes); the file is not safetensors or is truncated.");
        var header = new byte[headerLength];
        file.ReadExactly(header);
        var dataStart = 8 + (long)headerLength;
        var entries = new List<Entry>();
        try
        {
            using var json = JsonDocument.Parse(header);
            foreach (var item in json.RootElement.EnumerateObject())
            {
                if (item.Name == "__metadata__") continue;
                var range = item.Value.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                var entry = new Entry(item.Name, item.Value.GetProperty("dtype").GetString()!, item.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray(), range[0], range[1]);
                if (entry.Start < 0 || entry.End < entry.Start || dataStart + entry.End > file.Length)
                    throw new ExperimentsException($"{path}: tensor '{entry.Name}' claims bytes {entry.Start}–{entry.End} of a data section of {file.Length - dataStart}; the file is truncated or damaged.");
                entries.Add(entry);
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException)
        {
            throw new ExperimentsException($"{path}: the safetensors header is not valid ({e.Message}).", e);
        }
        return (entries, dataStart);
    }
}
