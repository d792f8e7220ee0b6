using Experiments.Core;
using Microsoft.ML;
using Microsoft.ML.Runtime;

// The one loadable class of the platform: ML.NET's Model.Load finds it by its signature and, in a fresh process, by the
// assembly the saved header names (ModelLoadContext registers that assembly with the MLContext's component catalog).
[assembly: LoadableClass(typeof(ITransformer), typeof(Experiments.MLNet.PersistentTransformer), null, typeof(SignatureLoadModel),
    "Experiments transformer", Experiments.MLNet.PersistentTransformer.LoaderSignature)]

namespace Experiments.MLNet;

/// <summary>
/// A transformer of the platform that ML.NET's model zip can hold: <c>mlContext.Model.Save</c> calls
/// <see cref="Write"/> (through the default <see cref="ICanSaveModel.Save"/> below) and <c>mlContext.Model.Load</c>, in any
/// MLContext and any process, calls <typeparamref name="TSelf"/>'s <see cref="Load"/>, which reads what Write wrote.
/// </summary>
public interface IPersistentTransformer<TSelf> : ITransformer where TSelf : IPersistentTransformer<TSelf>
{
    /// <summary>The version of the format <see cref="Write"/> writes; <see cref="Load"/> is handed the version a file has.</summary>
    static abstract int FormatVersion { get; }

    /// <summary>Writes the fitted state (the main stream, and named streams for large parts).</summary>
    void Write(ModelWriter writer);

    /// <summary>Reads what <see cref="Write"/> wrote (of format <see cref="ModelReader.FormatVersion"/>).</summary>
    static abstract TSelf Load(ModelReader reader);

    void ICanSaveModel.Save(ModelSaveContext ctx) => PersistentTransformer.Save(ctx, (TSelf)this);
}

/// <summary>The main stream of a saved transformer and the named streams beside it in the model zip.</summary>
public sealed class ModelWriter
{
    private readonly ModelSaveContext _context;

    internal ModelWriter(ModelSaveContext context) => _context = context;

    public BinaryWriter Writer => _context.Writer;

    /// <summary>Writes a named stream beside the main one (for large arrays or whole files).</summary>
    public void WriteStream(string name, Action<BinaryWriter> write) => _context.SaveBinaryStream(name, write);
}

/// <inheritdoc cref="ModelWriter"/>
public sealed class ModelReader
{
    private readonly ModelLoadContext _context;

    internal ModelReader(ModelLoadContext context, string kind, int formatVersion)
    {
        _context = context;
        Kind = kind;
        FormatVersion = formatVersion;
    }

    public BinaryReader Reader => _context.Reader;

    /// <summary>The saved transformer's type name, for error messages.</summary>
    public string Kind { get; }

    /// <summary>The format version the file was written with.</summary>
    public int FormatVersion { get; }

    /// <summary>Reads a named stream written by <see cref="ModelWriter.WriteStream"/>; a clear error when the file lacks it.</summary>
    public void ReadStream(string name, Action<BinaryReader> read)
    {
        if (!_context.TryLoadBinaryStream(name, read))
            throw new ExperimentsException($"The saved {Kind} lacks its '{name}' part: the model file is damaged or was not written by Experiments.");
    }

    /// <summary>A clear error for a file written by a newer format than this build reads.</summary>
    public void RequireVersionAtMost(int newest)
    {
        if (FormatVersion > newest || FormatVersion < 1)
            throw new ExperimentsException($"The saved {Kind} has format version {FormatVersion}; this build of Experiments reads versions 1 to {newest}. Load it with the version of Experiments that saved it.");
    }
}

/// <summary>
/// Saves and loads every <see cref="IPersistentTransformer{TSelf}"/> under one ML.NET loader signature: the main stream
/// starts with the transformer's .NET type and format version, so one loadable class serves every kind.
/// </summary>
public static class PersistentTransformer
{
    public const string LoaderSignature = "ExperimentsTransformer";
    private const string ModelSignature = "EXPTRANS";
    private const string Magic = "Experiments.PersistentTransformer";

    private static VersionInfo Version() =>
        new(ModelSignature, verWrittenCur: 0x00010001, verReadableCur: 0x00010001, verWeCanReadBack: 0x00010001,
            loaderAssemblyName: typeof(PersistentTransformer).Assembly.FullName, loaderSignature: LoaderSignature, loaderSignatureAlt: null);

    internal static void Save<T>(ModelSaveContext ctx, T transformer) where T : IPersistentTransformer<T>
    {
        MLNetInternals.Check();
        ctx.CheckAtModel();
        ctx.SetVersionInfo(Version());
        ctx.Writer.Write(Magic);
        ctx.Writer.Write(TypeName(typeof(T)));
        ctx.Writer.Write(T.FormatVersion);
        transformer.Write(new ModelWriter(ctx));
    }

    // Assembly-qualified without version, culture or key, so that a newer build of the same assembly loads the file.
    private static string TypeName(Type type) => $"{type.FullName}, {type.Assembly.GetName().Name}";

    /// <summary>ML.NET's loader: found by <see cref="LoaderSignature"/> through the assembly's LoadableClass attribute.</summary>
    private static ITransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        MLNetInternals.Check();
        ctx.CheckAtModel();
        var reader = ctx.Reader;
        if (reader.ReadString() != Magic)
            throw new ExperimentsException("The model's Experiments transformer part does not start as Experiments writes it: the model file is damaged.");
        var name = reader.ReadString();
        var version = reader.ReadInt32();
        var type = Type.GetType(name, throwOnError: false)
                   ?? throw new ExperimentsException($"The model holds an Experiments transformer of type {name}, which this program does not have (is its assembly missing?).");
        var persistent = typeof(IPersistentTransformer<>).MakeGenericType(type);
        if (!persistent.IsAssignableFrom(type))
            throw new ExperimentsException($"The model names type {name} as its transformer, which is not a saveable Experiments transformer.");
        var load = typeof(PersistentTransformer).GetMethod(nameof(LoadAs), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.MakeGenericMethod(type);
        try
        {
            return (ITransformer)load.Invoke(null, [new ModelReader(ctx, type.Name, version)])!;
        }
        catch (System.Reflection.TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
    }

    private static T LoadAs<T>(ModelReader reader) where T : IPersistentTransformer<T>
    {
        reader.RequireVersionAtMost(T.FormatVersion);
        try
        {
            return T.Load(reader);
        }
        catch (EndOfStreamException)
        {
            throw new ExperimentsException($"The saved {reader.Kind} is truncated: it ends before the model does.");
        }
    }
}
