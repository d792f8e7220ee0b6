using System.Text;
using System.Text.Json;
using Experiments.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Experiments.Text;

/// <summary>
/// Reads and writes the safetensors format (Hugging Face's model.safetensors): an 8-byte little-endian header length,
/// a JSON header mapping each tensor name to its dtype, shape and byte range, then the raw little-endian data.
/// F32 is written; F32, F16 and BF16 are read (converted to F32).
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
            stream.Write(MemoryMarshalBytes(data.data<float>().ToArray()));
            data.Dispose();
        }
    }

    public static Dictionary<string, Tensor> Read(string path)
    {
        if (!File.Exists(path)) throw new ExperimentsException($"{path}: no such safetensors file.");
        var file = File.ReadAllBytes(path);
        if (file.Length < 8) throw new ExperimentsException($"{path} is too short to be a safetensors file.");
        var headerLength = (long)BitConverter.ToUInt64(file, 0);
        if (headerLength <= 0 || 8 + headerLength > file.Length) throw new ExperimentsException($"{path}: the safetensors header length ({headerLength}) does not fit the file ({file.Length} bytes).");
        using var header = JsonDocument.Parse(file.AsMemory(8, (int)headerLength));
        var start = 8 + (int)headerLength;
        var tensors = new Dictionary<string, Tensor>();
        foreach (var entry in header.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__") continue;
            var dtype = entry.Value.GetProperty("dtype").GetString();
            var shape = entry.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            var range = entry.Value.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            var count = shape.Aggregate(1L, (a, b) => a * b);
            var span = file.AsSpan(start + (int)range[0], (int)(range[1] - range[0]));
            float[] values = dtype switch
            {
                "F32" => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(span).ToArray(),
                "F16" => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(span).ToArray().Select(h => (float)h).ToArray(),
                "BF16" => System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ushort>(span).ToArray().Select(b => BitConverter.Int32BitsToSingle(b << 16)).ToArray(),
                _ => throw new ExperimentsException($"{path}: tensor '{entry.Name}' has dtype {dtype}; supported: F32, F16, BF16."),
            };
            if (values.Length != count) throw new ExperimentsException($"{path}: tensor '{entry.Name}' has {values.Length} values for shape [{string.Join(", ", shape)}].");
            tensors[entry.Name] = tensor(values, shape);
        }
        return tensors;
    }

    private static byte[] MemoryMarshalBytes(float[] values) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
}
