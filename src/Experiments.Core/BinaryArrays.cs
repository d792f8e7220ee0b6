using System.Runtime.InteropServices;

namespace Experiments.Core;

/// <summary>
/// Arrays in saved models: a length (−1 for none) and the elements, little-endian (BinaryWriter's byte order), written
/// as one block rather than element by element, since a model's weights can run to hundreds of megabytes.
/// </summary>
public static class BinaryArrays
{
    public static void WriteArray<T>(this BinaryWriter writer, T[]? values) where T : unmanaged
    {
        writer.Write(values?.Length ?? -1);
        if (values is null) return;
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Saving models needs a little-endian machine.");
        writer.Write(MemoryMarshal.AsBytes(values.AsSpan()));
    }

    /// <summary>An array written by <see cref="WriteArray{T}"/>; null when it was written as none.</summary>
    public static T[]? ReadArrayOrNull<T>(this BinaryReader reader) where T : unmanaged
    {
        var length = reader.ReadInt32();
        if (length < 0) return null;
        // Checked against the stream's length first, so that a damaged length cannot allocate gigabytes for nothing.
        if (reader.BaseStream.CanSeek && reader.BaseStream.Length - reader.BaseStream.Position < (long)length * Marshal.SizeOf<T>()) throw new EndOfStreamException();
        var values = new T[length];
        reader.BaseStream.ReadExactly(MemoryMarshal.AsBytes(values.AsSpan()));
        return values;
    }

    public static T[] ReadArray<T>(this BinaryReader reader) where T : unmanaged =>
        reader.ReadArrayOrNull<T>() ?? throw new ExperimentsException("The saved model is damaged: an array it needs is missing.");
}
