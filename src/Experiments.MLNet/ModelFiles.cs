using Experiments.Core;
using Microsoft.ML;

namespace Experiments.MLNet;

/// <summary>
/// Model files on disk, for ML.NET's zip and the platform's own formats alike: saving never replaces an existing file
/// unless asked (<c>overwrite: true</c>), and writes to a temporary file beside the target first, so a failed save
/// leaves the old file whole; loading names the file in every error.
/// </summary>
public static class ModelFiles
{
    /// <summary>Writes <paramref name="path"/> through <paramref name="write"/>: a clear error when it exists and <paramref name="overwrite"/> is false.</summary>
    public static void Write(string path, bool overwrite, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        if (Directory.Exists(full)) throw new ExperimentsException($"{path} is a folder; give a file name to save the model to.");
        if (File.Exists(full) && !overwrite)
            throw new ExperimentsException($"{path} already exists; pass overwrite: true to replace it, or choose another file name.");
        var folder = Path.GetDirectoryName(full)!;
        if (!Directory.Exists(folder)) throw new ExperimentsException($"{path}: the folder {folder} does not exist.");
        var temporary = Path.Combine(folder, $".{Path.GetFileName(full)}.{Environment.ProcessId}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write)) write(stream);
            File.Move(temporary, full, overwrite);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ExperimentsException($"{path} could not be written: {e.Message}");
        }
        finally
        {
            if (File.Exists(temporary)) File.Delete(temporary);
        }
    }

    /// <summary>Opens a saved model for reading: a clear error naming the file when it is missing or unreadable.</summary>
    public static T Read<T>(string path, Func<Stream, T> read)
    {
        if (Directory.Exists(path)) throw new ExperimentsException($"{path} is a folder, not a model file.");
        if (!File.Exists(path)) throw new ExperimentsException($"{path}: no such model file.");
        try
        {
            using var stream = File.OpenRead(path);
            return read(stream);
        }
        catch (ExperimentsException e)
        {
            throw e.Message.StartsWith(path, StringComparison.Ordinal) ? e : new ExperimentsException($"{path}: {e.Message}", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ExperimentsException($"{path} could not be read: {e.Message}", e);
        }
    }

    /// <summary>
    /// <c>mlContext.Model.Save</c> to a file that must not exist unless <paramref name="overwrite"/> (ML.NET's own Save
    /// replaces any file silently).
    /// </summary>
    public static void SaveFile(this ModelOperationsCatalog catalog, ITransformer model, DataViewSchema inputSchema, string path, bool overwrite = false) =>
        Write(path, overwrite, stream => catalog.Save(model, inputSchema, stream));

    /// <summary>
    /// <c>mlContext.Model.Load</c> with errors that name the file: one that is not an ML.NET model, or holds a transformer of
    /// a format this build does not read.
    /// </summary>
    public static ITransformer LoadFile(this ModelOperationsCatalog catalog, string path, out DataViewSchema inputSchema)
    {
        var (model, schema) = Read(path, stream =>
        {
            try
            {
                return (catalog.Load(stream, out var s), s);
            }
            catch (Exception e) when (e is not ExperimentsException)
            {
                // ML.NET wraps what a loader throws; an error of ours inside says best what is wrong.
                for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
                    if (inner is ExperimentsException ours) throw new ExperimentsException($"{path}: {ours.Message}", ours);
                if (e is InvalidDataException or InvalidOperationException or FormatException or ArgumentException or NotSupportedException)
                    throw new ExperimentsException($"{path} is not an ML.NET model zip this program can load ({e.Message}).", e);
                throw;
            }
        });
        inputSchema = schema;
        return model;
    }
}
