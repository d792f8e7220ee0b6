using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Datasets;
using Experiments.Datasets.Splitting;
using Experiments.Evaluation;

namespace Experiments.Runs;

/// <summary>
/// The checks of a definition that need its data (`validate --with-data`): the data set loads with the definition's
/// settings, and the split leaves every split both training and test rows — for leave-last-n, some user must have more
/// rows than n. Everything the manifests decide is checked without data by <see cref="DefinitionReader"/>.
/// </summary>
public static class DefinitionDataCheck
{
    /// <summary>Throws <see cref="DefinitionException"/> (located in <paramref name="json"/>) for what the run would reject.</summary>
    public static void Check(ExperimentDefinition definition, string json, string source, IDatasetLoader loader, string? dataDirectory)
    {
        if (definition.Task == MetricCatalog.Classification) return; // row splits of a labelled table: decided by the fractions alone
        var dataset = loader.Open(DatasetRequest.From(definition.Dataset, dataDirectory));
        var spec = definition.Split;
        var data = spec.Method == "predefined" ? dataset.PredefinedSplit(spec.Name!).All : dataset.Interactions(definition.Dataset.Table);
        var errors = new List<(string Path, string Message)>();
        if (spec.Method == "leave-last-n")
        {
            var longest = data.Count == 0 ? 0 : data.User.GroupBy(u => u).Max(g => g.Count());
            if (longest <= spec.N)
                errors.Add(("$.split.n", $"leave-last-n holds out the last {spec.N} row(s) of each user who has more; the longest user history in " +
                                         $"'{definition.Dataset.Table ?? dataset.Manifest.DefaultTable}' has {longest} row(s), so no user would be tested; use n below {longest}"));
        }
        if (errors.Count == 0)
            foreach (var split in SplitterFactory.Create(spec, dataset.PredefinedSplit).Split(data, definition.Seed))
                if (split.Train.Length == 0 || split.Test.Length == 0)
                    errors.Add(("$.split", $"split '{split.Name}' leaves {split.Train.Length} training and {split.Test.Length} test rows of {data.Count}; both must be non-empty"));
        if (errors.Count > 0) throw new DefinitionException(source, errors.Select(e => Located(JsonTree.Parse(json, source), e.Path, e.Message)).ToList());
    }

    /// <summary>The error at the node of <paramref name="path"/> ($.a.b), or at its nearest ancestor present in the file.</summary>
    private static DefinitionError Located(JsonTree root, string path, string message)
    {
        var node = root;
        foreach (var name in path.Split('.').Skip(1))
            if (node[name] is { } child) node = child;
            else break;
        return new DefinitionError(path, node.Line, node.Column, message);
    }
}
