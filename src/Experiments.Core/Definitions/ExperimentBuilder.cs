namespace Experiments.Core.Definitions;

/// <summary>
/// Builds an experiment definition in C# (for notebooks):
/// <code>
/// var definition = ExperimentBuilder.Create("quickstart")
///     .ForTask("ranking")
///     .OnDataset("demo-shop")
///     .Split("stratified", testFraction: 0.2)
///     .AddModel("most-popular")
///     .AddModel("item-knn", p => p["neighbours"] = 50)
///     .WithMetrics("ndcg@10", "hit-rate@10")
///     .WithSeed(42)
///     .Build(vocabulary);
/// </code>
/// <see cref="Build"/> validates through the same reader as JSON files, so both paths accept and reject the same things.
/// </summary>
public sealed class ExperimentBuilder
{
    private ExperimentDefinition _definition;

    private ExperimentBuilder(string name) =>
        _definition = new ExperimentDefinition
        {
            Name = name,
            Task = "ranking",
            Dataset = new DatasetSpec { Name = "demo-shop" },
            Models = [],
            Metrics = [],
        };

    public static ExperimentBuilder Create(string name) => new(name);

    public ExperimentBuilder Describe(string description) => With(d => d with { Description = description });

    public ExperimentBuilder ForTask(string task) => With(d => d with { Task = task });

    public ExperimentBuilder OnDataset(string name, Func<DatasetSpec, DatasetSpec>? configure = null)
    {
        var spec = new DatasetSpec { Name = name };
        return With(d => d with { Dataset = configure is null ? spec : configure(spec) });
    }

    /// <summary>
    /// The user's own files instead of a registered data set: <c>DataFiles.Single("clicks.csv")</c>, which the split
    /// cuts, or <c>DataFiles.Split("train.csv", "test.csv")</c>, which fix the split (then <c>.Split("predefined",
    /// validationFraction: 0.1)</c> may carve validation rows from the training file), or for task "search"
    /// <c>DataFiles.Search("products.csv", "judgements.csv")</c> (columns item, title, query, relevance, …; the split
    /// cuts the queries). <paramref name="format"/> is how the files are written; a file written differently has its own,
    /// e.g. <c>DataFiles.Search(…).WithFormat("catalogue", new FileFormat { Delimiter = ";", Encoding = "windows-1252" })</c>.
    /// Relative paths resolve against
    /// <paramref name="baseDirectory"/> (default: the working directory when the definition is built). The files are
    /// checked by <see cref="Build"/> like those of a definition file, and loaded by the same checked reader.
    /// </summary>
    public ExperimentBuilder OnFiles(DataFiles files, ColumnRoles columns, FileFormat? format = null, string? baseDirectory = null, Func<DatasetSpec, DatasetSpec>? configure = null)
    {
        var spec = new DatasetSpec
        {
            Name = Path.GetFileNameWithoutExtension(files.Table ?? files.Train ?? files.Test ?? files.Catalogue ?? ""),
            Files = files,
            Columns = columns,
            Format = format ?? new FileFormat(),
            BaseDirectory = baseDirectory,
        };
        return With(d => d with
        {
            Dataset = configure is null ? spec : configure(spec),
            Split = files.FixSplit ? new SplitSpec { Method = "predefined", Name = DataFiles.SplitName, ValidationFraction = d.Split.ValidationFraction, Unit = d.Split.Unit } : d.Split,
        });
    }

    public ExperimentBuilder Split(string method, double testFraction = 0.2, double validationFraction = 0, int n = 1, int folds = 5, string? name = null, string unit = SplitSpec.Pairs) =>
        With(d => d with { Split = new SplitSpec { Method = method, TestFraction = testFraction, ValidationFraction = validationFraction, N = n, Folds = folds, Name = name, Unit = unit } });

    public ExperimentBuilder AddModel(string type, Action<Dictionary<string, object>>? parameters = null, string? name = null)
    {
        var values = new Dictionary<string, object>();
        parameters?.Invoke(values);
        var model = new ModelSpec { Type = type, Name = name ?? type, Parameters = values };
        return With(d => d with { Models = [.. d.Models, model] });
    }

    /// <summary>A text encoder trained on each split's training rows (see <see cref="EncoderSpec"/>); models refer to it by name ("textEncoder").</summary>
    public ExperimentBuilder AddEncoder(string name, string objective, IReadOnlyList<string> columns, string? labelColumn = null, string? checkpoint = null,
        Action<Dictionary<string, object>>? parameters = null)
    {
        var values = new Dictionary<string, object>();
        parameters?.Invoke(values);
        var encoder = new EncoderSpec { Name = name, Objective = objective, Columns = columns, LabelColumn = labelColumn, Checkpoint = checkpoint, Parameters = values };
        return With(d => d with { Encoders = [.. d.Encoders, encoder] });
    }

    public ExperimentBuilder WithMetrics(params string[] metrics) =>
        With(d => d with { Metrics = [.. d.Metrics, .. metrics.Select(MetricName.Parse)] });

    public ExperimentBuilder WithEvaluation(Func<EvaluationSpec, EvaluationSpec> configure) => With(d => d with { Evaluation = configure(d.Evaluation) });

    /// <summary>Task "search": judgement source, query cap, NDCG gain, relevance threshold (see <see cref="SearchSpec"/>).</summary>
    public ExperimentBuilder WithSearch(Func<SearchSpec, SearchSpec> configure) => With(d => d with { Search = configure(d.Search ?? new SearchSpec()) });

    /// <summary>Task "hybrid": item text and attributes, the text embedder, cold start (see <see cref="HybridSpec"/>).</summary>
    public ExperimentBuilder WithHybrid(Func<HybridSpec, HybridSpec> configure) => With(d => d with { Hybrid = configure(d.Hybrid ?? new HybridSpec()) });

    /// <summary>
    /// A sweep of the models (see <see cref="SweepSpec"/>): <c>.WithSweep(s => s with { Tuner = "tpe", Trials = 50,
    /// Spaces = new Dictionary&lt;string, string&gt; { ["mf"] = SpaceJson.Write(space) } })</c>; checked like a file's "sweep" block.
    /// </summary>
    public ExperimentBuilder WithSweep(Func<SweepSpec, SweepSpec> configure) => With(d => d with { Sweep = configure(d.Sweep ?? new SweepSpec()) });

    public ExperimentBuilder WithSeed(int seed) => With(d => d with { Seed = seed });

    public ExperimentBuilder WithOutput(Func<OutputSpec, OutputSpec> configure) => With(d => d with { Output = configure(d.Output) });

    /// <summary>A regression rule on <paramref name="metric"/> (see <see cref="RegressionRule"/>), checked after every run.</summary>
    public ExperimentBuilder WithRegressionRule(string metric, Func<RegressionRule, RegressionRule>? configure = null)
    {
        var rule = new RegressionRule { Metric = MetricName.Parse(metric) };
        return With(d => d with { Regression = configure is null ? rule : configure(rule) });
    }

    /// <summary>Validates and returns the definition; throws <see cref="DefinitionException"/> like a bad JSON file would.</summary>
    public ExperimentDefinition Build(DefinitionVocabulary vocabulary) =>
        new DefinitionReader(vocabulary).Read(DefinitionWriter.ToJson(_definition), $"experiment '{_definition.Name}' (built in code)", _definition.Dataset.BaseDirectory);

    private ExperimentBuilder With(Func<ExperimentDefinition, ExperimentDefinition> change)
    {
        _definition = change(_definition);
        return this;
    }
}
