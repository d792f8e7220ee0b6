using System.Reflection;
using System.Text.Json;
using Experiments.Core;
using Experiments.Core.Definitions;

namespace Experiments.Datasets.Manifests;

/// <summary>The registered data sets: the manifests of <c>datasets/*.json</c>, embedded in this library.</summary>
public sealed class DatasetRegistry
{
    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNameCaseInsensitive = false,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
    };

    private readonly Dictionary<string, DatasetManifest> _manifests;

    public DatasetRegistry(IEnumerable<DatasetManifest> manifests) =>
        _manifests = manifests.ToDictionary(m => m.Name, StringComparer.Ordinal);

    /// <summary>The manifests shipped with the platform.</summary>
    public static DatasetRegistry Default { get; } = new(LoadEmbedded());

    public IReadOnlyList<DatasetManifest> All => _manifests.Values.OrderBy(m => m.Name, StringComparer.Ordinal).ToList();

    public DatasetManifest Get(string name) =>
        _manifests.TryGetValue(name, out var manifest)
            ? manifest
            : throw new ExperimentsException(DefinitionValidator.UnknownValue($"data set '{name}'", name, _manifests.Keys.Order().ToList()));

    public static DatasetManifest Parse(string json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<DatasetManifest>(json, JsonOptions)
                   ?? throw new ExperimentsException($"{source}: the manifest is empty.");
        }
        catch (JsonException e)
        {
            throw new ExperimentsException($"{source}: invalid data set manifest: {e.Message}");
        }
    }

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
