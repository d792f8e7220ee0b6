using Experiments.Core.Definitions;
using Experiments.Datasets.Manifests;
using Experiments.Evaluation;
using Experiments.Recommenders;

namespace Experiments.Runs;

/// <summary>The names a definition may use, gathered from the data set registry and the model and metric catalogs.</summary>
public static class Platform
{
    public static DefinitionVocabulary Vocabulary { get; } = new(
        MetricCatalog.Tasks,
        DatasetRegistry.Default.All.Select(m => new DatasetDescriptor(
            m.Name, m.Description, m.Synthetic,
            m.InteractionTables.Select(t => t.Name).ToList(),
            m.Splits.Select(s => s.Name).ToList(),
            m.Tables.Any(t => t.Role == TableRole.Items && t.ColumnWithRole("category") is not null),
            // Classification here means click-through: tables whose label is 0/1.
            m.Tables.Where(t => t.Role == TableRole.Records && t.ColumnWithRole("label")?.Allowed is ["0", "1"]).Select(t => t.Name).ToList(),
            SearchTask.Describe(m))).ToList(),
        [.. RecommenderCatalog.Models, .. Experiments.Ctr.CtrCatalog.Models, .. Experiments.Search.SearchCatalog.Models],
        MetricCatalog.All,
        Experiments.Text.EncoderCatalog.Parameters);

    public static DefinitionReader Reader { get; } = new(Vocabulary);

    /// <summary>The JSON Schema of experiment definitions (the text of experiments/experiment.schema.json).</summary>
    public static string Schema => SchemaWriter.Write(DefinitionShape.Build(Vocabulary));
}
