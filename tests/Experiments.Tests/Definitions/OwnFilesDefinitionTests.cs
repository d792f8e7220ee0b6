using Experiments.Core.Definitions;
using Experiments.Runs;

namespace Experiments.Tests.Definitions;

/// <summary>Definitions whose data set is the user's own files: what they bind to, and every way they can be wrong.</summary>
[TestClass]
public sealed class OwnFilesDefinitionTests
{
    private static string Definition(string task, string dataset, string? split = null, string metrics = "\"ndcg@10\"", string model = "most-popular") => $$"""
        {
          "name": "own",
          "task": "{{task}}",
          "dataset": {{dataset}},
          {{(split is null ? "" : $"\"split\": {split},")}}
          "models": [ { "type": "{{model}}" } ],
          "metrics": [{{metrics}}]
        }
        """;

    private const string Ranking = """{ "files": { "table": "data/clicks.csv" }, "columns": { "user": "customer", "item": "sku" } }""";

    private static TempFolder WithFiles(params string[] names)
    {
        var folder = new TempFolder();
        foreach (var name in names) folder.File(name, "customer,sku,stars,clicked\na,x,4,1\n");
        return folder;
    }

    private static List<DefinitionError> Errors(string json, string folder)
    {
        var e = Assert.ThrowsExactly<DefinitionException>(() => Platform.Reader.Read(json, "own.json", folder));
        return e.Errors.ToList();
    }

    private static DefinitionError Single(string json, string folder)
    {
        var errors = Errors(json, folder);
        Assert.HasCount(1, errors, string.Join("\n", errors));
        return errors[0];
    }

    [TestMethod]
    public void A_table_binds_files_format_and_columns_with_paths_relative_to_the_definition()
    {
        using var folder = WithFiles("data/clicks.csv");
        var path = folder.File("own.json", Definition("ranking", """
            { "files": { "table": "data/clicks.csv" }, "format": { "delimiter": ";", "quote": "'", "encoding": "windows-1252" },
              "columns": { "user": "customer", "item": "sku", "rating": "stars" }, "ratingScale": { "min": 1, "max": 5 } }
            """));
        var definition = Platform.Reader.ReadFile(path);
        var dataset = definition.Dataset;
        Assert.AreEqual("clicks", dataset.Name, "the label defaults to the file's name");
        Assert.AreEqual("data/clicks.csv", dataset.Files!.Table);
        Assert.AreEqual(folder.Path, dataset.BaseDirectory);
        Assert.AreEqual(Path.Combine(folder.Path, "data", "clicks.csv"), dataset.ResolvePath(dataset.Files.Table!));
        Assert.AreEqual(new FileFormat { Delimiter = ";", Quote = "'", Encoding = "windows-1252" }, dataset.Format);
        Assert.AreEqual(("customer", "sku", "stars"), (dataset.Columns.User, dataset.Columns.Item, dataset.Columns.Rating));
        Assert.AreEqual(new RatingScale(1, 5), dataset.RatingScale);
        Assert.AreEqual("stratified", definition.Split.Method, "a table is cut by the definition's split (default stratified)");
    }

    [TestMethod]
    public void Train_and_test_files_are_the_predefined_split_files()
    {
        using var folder = WithFiles("train.csv", "test.csv");
        var json = Definition("rating", """{ "files": { "train": "train.csv", "test": "test.csv" }, "columns": { "user": "customer", "item": "sku", "rating": "stars" } }""",
            metrics: "\"rmse\"", model: "global-mean");
        var plain = Platform.Reader.Read(json, "own.json", folder.Path);
        Assert.AreEqual(("predefined", DataFiles.SplitName, 0.0), (plain.Split.Method, plain.Split.Name, plain.Split.ValidationFraction));
        var carved = Platform.Reader.Read(json.Replace("\"models\"", "\"split\": { \"method\": \"predefined\", \"validationFraction\": 0.1 }, \"models\""), "own.json", folder.Path);
        Assert.AreEqual(("predefined", DataFiles.SplitName, 0.1), (carved.Split.Method, carved.Split.Name, carved.Split.ValidationFraction));
    }

    [TestMethod]
    public void A_missing_file_names_its_json_path_and_the_resolved_path()
    {
        using var folder = new TempFolder();
        var error = Single(Definition("ranking", Ranking), folder.Path);
        Assert.AreEqual("$.dataset.files.table", error.Path);
        Assert.AreEqual($"no such file: {Path.Combine(folder.Path, "data", "clicks.csv")} (relative paths resolve against {folder.Path}, the definition's folder)", error.Message);
        Assert.AreEqual(4, error.Line);
    }

    [TestMethod]
    public void A_folder_is_not_a_file()
    {
        using var folder = new TempFolder();
        Directory.CreateDirectory(Path.Combine(folder.Path, "data", "clicks.csv"));
        StringAssert.StartsWith(Single(Definition("ranking", Ranking), folder.Path).Message, "'data/clicks.csv' is a folder, not a file");
    }

    [TestMethod]
    public void Neither_name_nor_files()
    {
        using var folder = new TempFolder();
        var error = Single(Definition("ranking", """{ "columns": { "user": "u" } }"""), folder.Path);
        Assert.AreEqual("$.dataset", error.Path);
        StringAssert.StartsWith(error.Message, "missing required property 'name' or 'files': 'name' names a registered data set (allowed: ");
        StringAssert.EndsWith(error.Message, "'files' names your own files");
    }

    [TestMethod]
    public void Which_files_go_together()
    {
        using var folder = WithFiles("a.csv", "b.csv");
        StringAssert.StartsWith(Single(Definition("ranking", """{ "files": { "table": "a.csv", "train": "b.csv" }, "columns": { "user": "customer", "item": "sku" } }"""), folder.Path).Message,
            "\"table\" is one file that the split cuts, \"train\" / \"validation\" / \"test\" fix the split themselves: give one or the other, not both");
        Assert.AreEqual("train and test files come together: \"test\" is missing",
            Single(Definition("ranking", """{ "files": { "train": "a.csv" }, "columns": { "user": "customer", "item": "sku" } }"""), folder.Path).Message);
        var none = Single(Definition("ranking", """{ "files": { }, "columns": { "user": "customer", "item": "sku" } }"""), folder.Path);
        Assert.AreEqual(("$.dataset.files", "give \"table\" (one file that the split cuts) or \"train\" and \"test\" (and optionally \"validation\")"), (none.Path, none.Message));
        StringAssert.StartsWith(Single(Definition("ranking", """{ "files": { "table": "a.csv", "training": "b.csv" }, "columns": { "user": "customer", "item": "sku" } }"""), folder.Path).Message,
            "unknown property 'training'; allowed: table, train, validation, test");
    }

    [TestMethod]
    public void Header_and_column_names()
    {
        using var folder = WithFiles("a.csv");
        var noNames = Single(Definition("ranking", """{ "files": { "table": "a.csv" }, "format": { "header": false }, "columns": { "user": "customer", "item": "sku" } }"""), folder.Path);
        Assert.AreEqual(("$.dataset.format", "files without a header (\"header\": false) need \"columnNames\": the names of their columns in order"), (noNames.Path, noNames.Message));
        StringAssert.StartsWith(Single(Definition("ranking", """{ "files": { "table": "a.csv" }, "format": { "columnNames": ["customer", "sku"] }, "columns": { "user": "customer", "item": "sku" } }"""), folder.Path).Message,
            "\"columnNames\" names the columns of files without a header line");
        var unknown = Single(Definition("ranking", """{ "files": { "table": "a.csv" }, "format": { "header": false, "columnNames": ["customer", "product"] }, "columns": { "user": "customer", "item": "sku" } }"""), folder.Path);
        Assert.AreEqual(("$.dataset.columns.item", "column 'sku' is not among format.columnNames (customer, product)"), (unknown.Path, unknown.Message));
        var encoding = Single(Definition("ranking", """{ "files": { "table": "a.csv" }, "format": { "encoding": "utf-16" }, "columns": { "user": "customer", "item": "sku" } }"""), folder.Path);
        Assert.AreEqual(("$.dataset.format.encoding", "unknown value 'utf-16'; did you mean 'utf-8'?; allowed: utf-8, latin1, windows-1252"), (encoding.Path, encoding.Message));
        var delimiter = Single(Definition("ranking", """{ "files": { "table": "a.csv" }, "format": { "delimiter": "\"" }, "columns": { "user": "customer", "item": "sku" } }"""), folder.Path);
        Assert.AreEqual("the delimiter must not contain a line break or the quote character (\")", delimiter.Message);
    }

    [TestMethod]
    public void Columns_the_task_needs_and_those_it_cannot_use()
    {
        using var folder = WithFiles("a.csv");
        var ranking = Single(Definition("ranking", """{ "files": { "table": "a.csv" }, "columns": { "user": "customer" } }"""), folder.Path);
        Assert.AreEqual(("$.dataset.columns", "task 'ranking' needs column \"item\": the name of the column that holds the item"), (ranking.Path, ranking.Message));
        StringAssert.Contains(Single(Definition("rating", """{ "files": { "table": "a.csv" }, "columns": { "user": "customer", "item": "sku" } }""", metrics: "\"rmse\"", model: "global-mean"), folder.Path).Message,
            "task 'rating' needs column \"rating\"");
        StringAssert.Contains(Single(Definition("classification", """{ "files": { "table": "a.csv" }, "columns": { "numeric": ["stars"] } }""", metrics: "\"auc\"", model: "logistic-regression"), folder.Path).Message,
            "task 'classification' needs column \"label\": the name of the column that holds the label (0 or 1)");
        var features = Single(Definition("ranking", """{ "files": { "table": "a.csv" }, "columns": { "user": "customer", "item": "sku", "numeric": ["stars"] } }"""), folder.Path);
        Assert.AreEqual(("$.dataset.columns.numeric", "\"numeric\" columns are click-model features: they belong to task 'classification'"), (features.Path, features.Message));
        var twice = Single(Definition("classification", """{ "files": { "table": "a.csv" }, "columns": { "label": "clicked", "numeric": ["stars"], "categorical": ["stars"] } }""", metrics: "\"auc\"", model: "logistic-regression"), folder.Path);
        Assert.AreEqual(("$.dataset.columns.categorical[0]", "column 'stars' already has role numeric[0]; give each column one role"), (twice.Path, twice.Message));
        StringAssert.StartsWith(Single(Definition("ranking", """{ "files": { "table": "a.csv" }, "columns": { "user": "customer", "item": "sku" }, "ratingScale": { "min": 1, "max": 5 } }"""), folder.Path).Message,
            "ratingScale checks the ratings, but no \"rating\" column is named");
        StringAssert.StartsWith(Single(Definition("ranking", Ranking.Replace("data/clicks.csv", "a.csv"), metrics: "\"diversity@10\""), folder.Path).Message,
            "metric 'diversity' compares items by category; own files have no item catalogue");
    }

    [TestMethod]
    public void Splits_that_cannot_apply_to_the_files()
    {
        using var folder = WithFiles("train.csv", "validation.csv", "test.csv", "all.csv");
        const string split = """{ "files": { "train": "train.csv", "test": "test.csv" }, "columns": { "user": "customer", "item": "sku" } }""";
        var temporal = Single(Definition("ranking", split, """{ "method": "temporal", "testFraction": 0.2 }"""), folder.Path);
        Assert.AreEqual("$.split.method", temporal.Path);
        StringAssert.StartsWith(temporal.Message, "the train and test files fix the split, so split method 'temporal' cannot apply");
        StringAssert.StartsWith(Single(Definition("ranking", split, """{ "method": "predefined", "name": "u1" }"""), folder.Path).Message,
            "the split of own train and test files is named 'files'");
        var both = Single(Definition("ranking", split.Replace("\"test\":", "\"validation\": \"validation.csv\", \"test\":"), """{ "method": "predefined", "validationFraction": 0.1 }"""), folder.Path);
        Assert.AreEqual(("$.split.validationFraction", "the validation file holds the validation rows already; remove validationFraction or the validation file"), (both.Path, both.Message));
        StringAssert.StartsWith(Single(Definition("ranking", Ranking.Replace("data/clicks.csv", "all.csv"), """{ "method": "predefined" }"""), folder.Path).Message,
            "one table has no predefined split");
    }

    [TestMethod]
    public void Registered_predefined_splits_take_a_validation_fraction_and_still_need_a_name()
    {
        var definition = Platform.Reader.Read(Definition("rating", """{ "name": "movielens-latest-small-80-20" }""", """{ "method": "predefined", "name": "default", "validationFraction": 0.1 }""", "\"rmse\"", "global-mean"), "ml.json");
        Assert.AreEqual(0.1, definition.Split.ValidationFraction);
        var e = Assert.ThrowsExactly<DefinitionException>(() => Platform.Reader.Read(Definition("rating", """{ "name": "movielens-latest-small-80-20" }""", """{ "method": "predefined" }""", "\"rmse\"", "global-mean"), "ml.json"));
        Assert.AreEqual("split method 'predefined' needs \"name\": one of default", e.Errors.Single().Message);
    }

    [TestMethod]
    public void The_canonical_text_and_hash_do_not_depend_on_where_the_definition_lies()
    {
        using var a = WithFiles("data/clicks.csv");
        using var b = WithFiles("data/clicks.csv");
        var json = Definition("ranking", Ranking);
        var first = Platform.Reader.Read(json, "own.json", a.Path);
        var second = Platform.Reader.Read(json, "own.json", b.Path);
        Assert.AreEqual(DefinitionWriter.Hash(first), DefinitionWriter.Hash(second));
        var again = Platform.Reader.Read(DefinitionWriter.ToJson(first), "canonical.json", a.Path);
        Assert.AreEqual(DefinitionWriter.ToJson(first), DefinitionWriter.ToJson(again), "the canonical text reads back to itself");
        StringAssert.Contains(DefinitionWriter.ToJson(first), "\"encoding\": \"utf-8\"", "defaults are spelled out");
    }

    [TestMethod]
    public void The_builder_makes_the_same_definition_and_rejects_the_same_mistakes()
    {
        using var folder = WithFiles("data/clicks.csv");
        var json = Platform.Reader.Read(Definition("ranking", Ranking), "own.json", folder.Path);
        var built = ExperimentBuilder.Create("own").ForTask("ranking")
            .OnFiles(DataFiles.Single("data/clicks.csv"), new ColumnRoles { User = "customer", Item = "sku" }, baseDirectory: folder.Path)
            .Split("stratified", 0.2).AddModel("most-popular").WithMetrics("ndcg@10").Build(Platform.Vocabulary);
        Assert.AreEqual(DefinitionWriter.Hash(json), DefinitionWriter.Hash(built));
        Assert.AreEqual(folder.Path, built.Dataset.BaseDirectory);
        var e = Assert.ThrowsExactly<DefinitionException>(() => ExperimentBuilder.Create("own").ForTask("ranking")
            .OnFiles(DataFiles.Single("nope.csv"), new ColumnRoles { User = "customer", Item = "sku" }, baseDirectory: folder.Path)
            .AddModel("most-popular").WithMetrics("ndcg@10").Build(Platform.Vocabulary));
        Assert.AreEqual(("$.dataset.files.table", $"no such file: {Path.Combine(folder.Path, "nope.csv")} (relative paths resolve against {folder.Path}, the definition's folder)"),
            (e.Errors.Single().Path, e.Errors.Single().Message));
    }

    [TestMethod]
    public void A_builder_made_definition_sent_to_a_worker_finds_its_files_in_the_submitters_folder()
    {
        using var folder = WithFiles("data/clicks.csv");
        var built = ExperimentBuilder.Create("own").ForTask("ranking")
            .OnFiles(DataFiles.Single("data/clicks.csv"), new ColumnRoles { User = "customer", Item = "sku" }, baseDirectory: folder.Path)
            .Split("stratified", 0.2).AddModel("most-popular").WithMetrics("ndcg@10").Build(Platform.Vocabulary);
        // No definition file: the payload is all a worker (or a sweep's child process) gets, read in its own working directory.
        var work = RemoteWork.FromJson(RemoteWork.Of(built, new RunOptions()).ToJson());
        Assert.IsNull(work.Source);
        Assert.AreNotEqual(Path.GetFullPath(folder.Path), Directory.GetCurrentDirectory());
        var read = work.Read();
        Assert.AreEqual(Path.GetFullPath(folder.Path), read.Dataset.BaseDirectory);
        Assert.AreEqual(Path.Combine(Path.GetFullPath(folder.Path), "data", "clicks.csv"), read.Dataset.ResolvePath(read.Dataset.Files!.Table!));
        Assert.AreEqual(DefinitionWriter.Hash(built), DefinitionWriter.Hash(read));
    }

    [TestMethod]
    public void The_builder_with_train_and_test_files_keeps_a_validation_fraction()
    {
        using var folder = WithFiles("train.csv", "test.csv");
        var built = ExperimentBuilder.Create("own").ForTask("rating")
            .OnFiles(DataFiles.Split("train.csv", "test.csv"), new ColumnRoles { User = "customer", Item = "sku", Rating = "stars" }, baseDirectory: folder.Path)
            .Split("predefined", validationFraction: 0.25, name: DataFiles.SplitName)
            .AddModel("global-mean").WithMetrics("rmse").Build(Platform.Vocabulary);
        Assert.AreEqual(("predefined", "files", 0.25), (built.Split.Method, built.Split.Name, built.Split.ValidationFraction));
    }
}
