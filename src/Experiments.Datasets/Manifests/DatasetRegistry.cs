using System.Reflection;
using System.Text.Json;
using Experiments.Core;
using Experiments.Core.Definitions;

namespace Experiments.Datasets.Manifests;

/// <summary>
/// The registered data sets: the built-in manifests of <c>datasets/*.json</c>, embedded in this library, and the user's
/// own, written by <c>experiments datasets add</c> into <see cref="UserFolder"/>.
/// </summary>
public sealed class DatasetRegistry
{
    /// <summary>Overrides the folder of the user's manifests.</summary>
    public const string UserFolderVariable = "EXPERIMENTS_DATASETS_DIR";

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNameCaseInsensitive = false,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly Dictionary<string, DatasetManifest> _manifests;

    public DatasetRegistry(IEnumerable<DatasetManifest> manifests, IReadOnlyList<string>? problems = null)
    {
        _manifests = manifests.ToDictionary(m => m.Name, StringComparer.Ordinal);
        Problems = problems ?? [];
    }

    /// <summary>The manifests shipped with the platform.</summary>
    public static DatasetRegistry BuiltIn { get; } = new(LoadEmbedded());

    /// <summary>The built-in manifests and the user's own (from <see cref="UserFolder"/>).</summary>
    public static DatasetRegistry Default => LazyDefault.Value;

    private static readonly Lazy<DatasetRegistry> LazyDefault = new(() => WithUserManifests(UserFolder));

    /// <summary>$EXPERIMENTS_DATASETS_DIR, else $XDG_CONFIG_HOME/experiments/datasets, else ~/.config/experiments/datasets.</summary>
    public static string UserFolder
    {
        get
        {
            if (Environment.GetEnvironmentVariable(UserFolderVariable) is { Length: > 0 } own) return Path.GetFullPath(own);
            var xdg = Environment.GetEnvironmentVariable("XDG_CONFIG_HOME");
            var root = !string.IsNullOrWhiteSpace(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config");
            return Path.Combine(root, "experiments", "datasets");
        }
    }

    /// <summary>
    /// The built-in manifests and those in <paramref name="folder"/>. A manifest that cannot be read, or that takes a
    /// built-in name, is left out and listed in <see cref="Problems"/>, so one bad file does not stop every command.
    /// </summary>
    public static DatasetRegistry WithUserManifests(string folder)
    {
        var manifests = BuiltIn.All.ToList();
        var problems = new List<string>();
        if (Directory.Exists(folder))
            foreach (var file in Directory.GetFiles(folder, "*.json").Order(StringComparer.Ordinal))
            {
                try
                {
                    var manifest = Parse(File.ReadAllText(file), file);
                    if (manifests.Any(m => m.Name == manifest.Name))
                        problems.Add($"{file}: data set '{manifest.Name}' is {(BuiltIn.Contains(manifest.Name) ? "built in" : "named by another manifest")}; rename it (`datasets add` with another NAME)");
                    else manifests.Add(manifest);
                }
                catch (Exception e) when (e is ExperimentsException or IOException or UnauthorizedAccessException)
                {
                    problems.Add(e.Message);
                }
            }
        return new DatasetRegistry(manifests, problems);
    }

    public IReadOnlyList<DatasetManifest> All => _manifests.Values.OrderBy(m => m.Name, StringComparer.Ordinal).ToList();

    /// <summary>User manifests that could not be used, each with its file and why.</summary>
    public IReadOnlyList<string> Problems { get; }

    public bool Contains(string name) => _manifests.ContainsKey(name);

    public DatasetManifest Get(string name) =>
        _manifests.TryGetValue(name, out var manifest)
            ? manifest
            : throw new ExperimentsException(DefinitionValidator.UnknownValue($"data set '{name}'", name, _manifests.Keys.Order().ToList()) +
                                             string.Concat(Problems.Select(p => $"{Environment.NewLine}  (left out: {p})")));

    public static DatasetManifest Parse(string json, string source)
    {
        try
        {
            var manifest = JsonSerializer.Deserialize<DatasetManifest>(json, JsonOptions)
                           ?? throw new ExperimentsException($"{source}: the manifest is empty.");
            if (manifest.Search is { } search && !SearchSpec.Languages.Contains(search.Language))
                throw new ExperimentsException($"{source}: search.language: {DefinitionValidator.UnknownValue($"language '{search.Language}'", search.Language, SearchSpec.Languages)}");
            return manifest;
        }
        catch (JsonException e)
        {
            throw new ExperimentsException($"{source}: invalid data set manifest: {e.Message}");
        }
    }

    /// <summary>The manifest as JSON, in the layout of <c>datasets/*.json</c>.</summary>
    public static string ToJson(DatasetManifest manifest) => JsonSerializer.Serialize(manifest, JsonOptions) + "\n";

    private static IEnumerable<DatasetManifest> LoadEmbedded()
    {
        var assembly = typeof(DatasetRegistry).Assembly;
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith("manifests/", StringComparison.Ordinal)))
        {
            using var reader = new StreamReader(assembly.GetManifestResourceStream(resource)!);
            yield return Parse(reader.ReadToEnd(), resource);
        }
    }
}
