using Experiments.Core.Definitions;

namespace Experiments.Sweeps;

/// <summary>
/// The parameters a model accepts, for checking a space written for it: names (with did-you-mean), kinds and ranges.
/// <see cref="Branches"/> gives, for a choice whose values are separate models (a trainer), each value's own catalog;
/// the sub-space under such a value is checked against it.
/// </summary>
public sealed record SpaceCatalog(string Subject, IReadOnlyList<ParameterSpec> Parameters)
{
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, SpaceCatalog>> Branches { get; init; } =
        new Dictionary<string, IReadOnlyDictionary<string, SpaceCatalog>>();

    public IReadOnlyList<string> Names => Parameters.Select(p => p.Name).Concat(Branches.Keys).ToList();
}
