using System.Reflection;
using Experiments.Core;
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;

// The runtime lets this assembly use the internals of these two (MLNetInternals.targets makes them visible to the compiler).
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Core")]
[assembly: System.Runtime.CompilerServices.IgnoresAccessChecksTo("Microsoft.ML.Data")]

namespace System.Runtime.CompilerServices
{
    /// <summary>
    /// Honoured by the .NET runtime though not declared by the class library: code of the declaring assembly may use
    /// the non-public types and members of the named assembly.
    /// </summary>
    [AttributeUsage(AttributeTargets.Assembly, AllowMultiple = true)]
    internal sealed class IgnoresAccessChecksToAttribute(string assemblyName) : Attribute
    {
        public string AssemblyName { get; } = assemblyName;
    }
}

namespace Experiments.MLNet
{
    /// <summary>
    /// Everything of ML.NET's that is internal and that the platform uses, in one place: ML.NET lets only its own
    /// assemblies describe a new column in a SchemaShape (or a schema's shape), cancel an MLContext's work, read an MLContext's seed, or save
    /// and load a transformer in its model zip (<see cref="PersistentTransformer"/>). The other projects call these
    /// wrappers and never reach into ML.NET themselves. <see cref="ReliedUpon"/> names each member used, and
    /// <see cref="Problems"/> checks them against the ML.NET assemblies actually loaded, so that a new ML.NET version
    /// that changes one fails with its name (a test runs the check; saving and loading run it before they start).
    /// </summary>
    public static class MLNetInternals
    {
        /// <summary>A member of ML.NET's internals: its type (assembly-qualified), its name, and its parameter types (null for a field).</summary>
        public sealed record Member(string Type, string Name, string[]? Parameters = null)
        {
            public override string ToString() => $"{Type.Split(',')[0]}.{Name}{(Parameters is null ? "" : $"({string.Join(", ", Parameters.Select(p => p.Split('.')[^1]))})")}";
        }

        private const string Core = ", Microsoft.ML.Core";
        private const string Save = "Microsoft.ML.ModelSaveContext" + Core;
        private const string Load = "Microsoft.ML.ModelLoadContext" + Core;

        /// <summary>Every internal member this assembly uses, with the parameter types it calls it with.</summary>
        public static IReadOnlyList<Member> ReliedUpon { get; } =
        [
            new("Microsoft.ML.SchemaShape+Column" + Core, ".ctor", ["System.String", "Microsoft.ML.SchemaShape+Column+VectorKind", "Microsoft.ML.Data.DataViewType", "System.Boolean", "Microsoft.ML.SchemaShape"]),
            new("Microsoft.ML.SchemaShape" + Core, "Create", ["Microsoft.ML.DataViewSchema"]),
            new("Microsoft.ML.MLContext, Microsoft.ML.Data", "CancelExecution", []),
            new("Microsoft.ML.Runtime.IHostEnvironmentInternal" + Core, "get_Seed", []),
            new("Microsoft.ML.LoadableClassAttribute" + Core, ".ctor", ["System.Type", "System.Type", "System.Type", "System.Type", "System.String", "System.String[]"]),
            new("Microsoft.ML.SignatureLoadModel" + Core, "Invoke", ["Microsoft.ML.ModelLoadContext"]),
            new("Microsoft.ML.VersionInfo" + Core, ".ctor", ["System.String", "System.UInt32", "System.UInt32", "System.UInt32", "System.String", "System.String", "System.String"]),
            new(Save, "CheckAtModel", []),
            new(Save, "SetVersionInfo", ["Microsoft.ML.VersionInfo"]),
            new(Save, "Writer"),
            new(Save, "SaveBinaryStream", ["System.String", "System.Action`1[[System.IO.BinaryWriter, System.Private.CoreLib]]"]),
            new(Load, "CheckAtModel", []),
            new(Load, "Reader"),
            new(Load, "TryLoadBinaryStream", ["System.String", "System.Action`1[[System.IO.BinaryReader, System.Private.CoreLib]]"]),
        ];

        /// <summary>The members of <paramref name="members"/> that the loaded ML.NET assemblies lack, each with what is wrong; empty when all are there.</summary>
        public static IReadOnlyList<string> Problems(IEnumerable<Member> members)
        {
            const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static;
            var problems = new List<string>();
            foreach (var member in members)
            {
                var type = Type.GetType(member.Type, throwOnError: false);
                if (type is null)
                {
                    problems.Add($"{member}: ML.NET has no type {member.Type}");
                    continue;
                }
                var found = type.GetMember(member.Name, all);
                if (member.Parameters is null ? found.OfType<FieldInfo>().Any() : found.OfType<MethodBase>().Any(m => Matches(m, member.Parameters)))
                    continue;
                problems.Add(found.Length == 0
                    ? $"{member}: {type.Name} has no member {member.Name}"
                    : $"{member}: {type.Name}.{member.Name} now takes ({string.Join("; ", found.OfType<MethodBase>().Select(m => string.Join(", ", m.GetParameters().Select(p => p.ParameterType.Name))))})");
            }
            return problems;
        }

        private static bool Matches(MethodBase method, string[] parameters)
        {
            var actual = method.GetParameters();
            return actual.Length == parameters.Length && actual.Zip(parameters).All(p => Same(p.First.ParameterType, p.Second));
        }

        // Generic arguments print assembly-qualified; compare them by their full names only.
        private static bool Same(Type type, string name) =>
            type.IsGenericType
                ? name.StartsWith(type.GetGenericTypeDefinition().FullName + "[[", StringComparison.Ordinal) && type.GenericTypeArguments.All(a => name.Contains("[" + a.FullName + ",", StringComparison.Ordinal))
                : type.FullName == name;

        private static readonly Lazy<IReadOnlyList<string>> LoadedProblems = new(() => Problems(ReliedUpon));

        /// <summary>Throws a clear error, once per process, when the ML.NET assemblies loaded lack a member the platform uses.</summary>
        public static void Check()
        {
            if (LoadedProblems.Value.Count > 0)
                throw new ExperimentsException($"This ML.NET version ({typeof(MLContext).Assembly.GetName().Version}) changed internals that Experiments relies on to save and load its transformers: " +
                                               $"{string.Join("; ", LoadedProblems.Value)}. Use ML.NET {ExpectedVersion} (the version Experiments was built against) or a build of Experiments for this one.");
        }

        /// <summary>The Microsoft.ML.Core version this assembly was compiled against.</summary>
        public static Version ExpectedVersion { get; } = typeof(MLNetInternals).Assembly.GetReferencedAssemblies().Single(a => a.Name == "Microsoft.ML.Core").Version!;

        /// <summary>A column for <see cref="SchemaShape"/> (ML.NET's estimators describe their outputs with this internal constructor).</summary>
        public static SchemaShape.Column Column(string name, SchemaShape.Column.VectorKind kind, DataViewType itemType, bool isKey = false) =>
            new(name, kind, itemType, isKey, null);

        /// <summary>The shape of a data view's schema, as an estimator's GetOutputSchema takes it (ML.NET builds it internally from the data).</summary>
        public static SchemaShape Shape(DataViewSchema schema) => SchemaShape.Create(schema);

        /// <summary>Stops the MLContext's running trainers (public only through the Microsoft.ML.Experimental package).</summary>
        public static void CancelExecution(MLContext context) => context.CancelExecution();

        /// <summary>The seed the MLContext was created with (<c>new MLContext(seed: …)</c>); null when it has none.</summary>
        public static int? Seed(MLContext context) => ((IHostEnvironmentInternal)context).Seed;
    }
}
