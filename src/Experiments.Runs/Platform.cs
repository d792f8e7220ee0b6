using Experiments.Core.Definitions;
using Experiments.Datasets.Manifests;
using Experiments.Evaluation;
using Experiments.Recommenders;

namespace Experiments.Runs;

/// <summary>The names a definition may use, gathered from the data set registry and the model and metric catalogs.</summary>
public static class Platform
{
    /// <summary>The vocabulary of this installation: the built-in data sets and the user's own (`datasets add`).</summary>
    public static DefinitionVocabulary Vocabulary { get; } = VocabularyOf(DatasetRegistry.Default);

    public static DefinitionReader Reader { get; } = new(Vocabulary);

    /// <summary>The JSON Schema of experiment definitions (the text of experiments/experiment.schema.json): built-in data sets only, so it is the same on every machine.</summary>
    public static string Schema => SchemaWriter.Write(DefinitionShape.Build(VocabularyOf(DatasetRegistry.BuiltIn)));

    /// <summary>The vocabulary over the data sets of <paramref name="registry"/>.</summary>
    public static DefinitionVocabulary VocabularyOf(DatasetRegistry registry) => new(
        MetricCatalog.Tasks,
        registry.All.Select(m => new DatasetDescriptor(
            m.Name, m.Description, m.Synthetic,
            m.InteractionTables.Select(t => t.Name).ToList(),
            m.Splits.Select(s => s.Name).ToList(),
            m.Tables.Any(t => t.Role == TableRole.Items && t.ColumnWithRole("category") is not null),
            m.LabelledTables.Select(t => t.Name).ToList(),
            // What the loader gives: time order from a timestamp column or from a file of user sequences in time order.
            m.InteractionTables.Where(t => t.ColumnWithRole("timestamp") is not null || t.Format == TableFormat.UserSequences).Select(t => t.Name).ToList(),
            m.InteractionTables.Where(t => t.ColumnWithRole("rating") is not null).Select(t => t.Name).ToList(),
            m.DefaultTable ?? m.InteractionTables.FirstOrDefault()?.Name,
            SearchTask.Describe(m))).ToList(),
        [.. RecommenderCatalog.Models, .. Experiments.Ctr.CtrCatalog.Models, .. Experiments.Search.SearchCatalog.Models, .. Experiments.Hybrid.HybridCatalog.Models],
        MetricCatalog.All,
        Experiments.Text.EncoderCatalog.Parameters,
        new SweepVocabulary(Experiments.Sweeps.Tuners.TunerCatalog.Names, SweepSpaces.Check));
}
