using System.Security.Cryptography;
using System.Text;
using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Datasets;
using Experiments.Runs;
using Experiments.Search.Data;
using Experiments.Store;

namespace Experiments.Tests.Search;

/// <summary>
/// Search on a user's own catalogue and judgements files, written by the tests in several delimiters and encodings:
/// what loads, every check that refuses bad files (with the exact message), the definition's rules, and a full run.
/// </summary>
[TestClass]
public sealed class OwnSearchFilesTests
{
    private static readonly ColumnRoles Columns = new()
    {
        Item = "sku", Title = "name", Description = "blurb", Category = "dept", Attributes = ["brand", "colour"], Popularity = "sales",
        Query = "q", Relevance = "grade", Intent = "wants",
    };

    private static SearchCollection Load(TempFolder folder, ColumnRoles? columns = null, FileFormat? format = null, BadRowPolicy badRows = BadRowPolicy.Fail, string catalogue = "products.csv", string judgements = "judgements.csv")
    {
        var spec = new DatasetSpec
        {
            Name = "own", Files = DataFiles.Search(catalogue, judgements), Columns = columns ?? Columns, Format = format ?? new FileFormat(),
            BaseDirectory = folder.Path, BadRows = badRows,
        };
        var dataset = new DatasetLoader().Open(DatasetRequest.From(spec));
        return SearchCollection.Load(dataset, dataset.Manifest.Search!, null, 0, 42);
    }

    private static void Write(TempFolder folder, string name, Encoding encoding, params string[] lines) =>
        File.WriteAllBytes(Path.Combine(folder.Path, name), encoding.GetBytes(string.Join("\n", lines) + "\n"));

    private static readonly string[] Products =
    [
        "sku,name,blurb,dept,brand,colour,sales",
        "P1,Crème kettle,\"A kettle, 1.7 l\",kitchen,Brava,white,12",
        "P2,Oak lamp,,lighting,Soleil,oak,3",
        "P3,Copper pan,Heavy pan,kitchen,Brava,copper,0",
    ];

    [TestMethod]
    public void A_comma_separated_utf8_catalogue_and_judgements_load_by_column_name()
    {
        using var folder = new TempFolder();
        Write(folder, "products.csv", Encoding.UTF8, Products);
        Write(folder, "judgements.csv", Encoding.UTF8, "q,sku,grade,wants", "kettle,P1,2,kitchen", "kettle,P3,1,", "lamp,P2,3,lighting", "lamp,P1,0,lighting", "pan,P1,0,kitchen");
        var collection = Load(folder);
        var catalogue = collection.Catalogue!;
        CollectionAssert.AreEqual(new[] { "P1", "P2", "P3" }, catalogue.Ids);
        CollectionAssert.AreEqual(new[] { "Crème kettle", "Oak lamp", "Copper pan" }, catalogue.Titles);
        CollectionAssert.AreEqual(new[] { "A kettle, 1.7 l", "", "Heavy pan" }, catalogue.Descriptions);
        CollectionAssert.AreEqual(new[] { "kitchen", "lighting", "kitchen" }, catalogue.Categories);
        CollectionAssert.AreEqual(new[] { "Brava white", "Soleil oak", "Brava copper" }, catalogue.Attributes);
        CollectionAssert.AreEqual(new[] { 12.0, 3, 0 }, catalogue.Popularity);
        // "pan" has only a grade-0 judgement: left out (no relevant product), the other two keep their first-seen order.
        Assert.AreEqual("kettle|kitchen, lamp|lighting", string.Join(", ", collection.Queries.Select(q => $"{q.Text}|{q.Intent}")));
        var judgements = collection.Judgements!;
        Assert.AreEqual((2.0, 1.0, 0.0), (judgements.Grade(0, 0), judgements.Grade(0, 2), judgements.Grade(0, 1)));
        Assert.AreEqual((3.0, 0.0), (judgements.Grade(1, 1), judgements.Grade(1, 0)));
    }

    [TestMethod]
    public void Tab_separated_windows_1252_and_headerless_latin1_files_decode_their_accents()
    {
        using var folder = new TempFolder();
        var cp1252 = CodePagesEncodingProvider.Instance.GetEncoding(1252)!;
        Write(folder, "products.tsv", cp1252, "sku\tname", "P1\tCafé € mug", "P2\tTasse à thé");
        Write(folder, "judgements.tsv", cp1252, "q\tsku\tgrade", "tasse thé\tP2\t1", "café mug\tP1\t2");
        var tabs = Load(folder, new ColumnRoles { Item = "sku", Title = "name", Query = "q", Relevance = "grade" }, new FileFormat { Delimiter = "\t", Encoding = "windows-1252" },
            catalogue: "products.tsv", judgements: "judgements.tsv");
        CollectionAssert.AreEqual(new[] { "Café € mug", "Tasse à thé" }, tabs.Catalogue!.Titles);
        CollectionAssert.AreEqual(new[] { "tasse thé", "café mug" }, tabs.Queries.Select(q => q.Text).ToArray());
        Assert.IsNull(tabs.Catalogue.Descriptions, "no description column named");

        Write(folder, "products.txt", Encoding.Latin1, "id|title", "P1|Crêpe pan", "P2|'Müsli | bowl'");
        Write(folder, "judgements.txt", Encoding.Latin1, "query|product|grade", "bowl|P2|3");
        var pipes = Load(folder, new ColumnRoles { Item = "id", Product = "product", Title = "title", Query = "query", Relevance = "grade" },
            new FileFormat { Delimiter = "|", Quote = "'", Encoding = "latin1" },
            catalogue: "products.txt", judgements: "judgements.txt");
        Assert.AreEqual("Crêpe pan, Müsli | bowl", string.Join(", ", pipes.Catalogue!.Titles));
        Assert.AreEqual(3.0, pipes.Judgements!.Grade(0, 1));
    }

    private static string Refused(TempFolder folder, string[] judgements, string[]? products = null, ColumnRoles? columns = null)
    {
        Write(folder, "products.csv", Encoding.UTF8, products ?? Products);
        Write(folder, "judgements.csv", Encoding.UTF8, judgements);
        return Assert.Throws<ExperimentsException>(() => Load(folder, columns)).Message;
    }

    private const string Skip = " (to skip such rows and count them, set \"badRows\": \"skip\" in the definition's \"dataset\")";

    [TestMethod]
    public void Bad_catalogue_and_judgement_rows_are_refused_naming_file_line_and_field()
    {
        using var folder = new TempFolder();
        string[] good = ["q,sku,grade,wants", "kettle,P1,2,kitchen"];
        Assert.AreEqual("judgements.csv, line 3, field 'sku': unknown product 'P9': it is not in the catalogue (catalogue (products.csv))" + Skip,
            Refused(folder, [.. good, "kettle,P9,1,kitchen"]));
        Assert.AreEqual("judgements.csv, line 3, field 'grade': out of range: -1 (allowed 0 to +inf)" + Skip,
            Refused(folder, [.. good, "lamp,P2,-1,lighting"]));
        StringAssert.StartsWith(Refused(folder, [.. good, "lamp,P2,high,lighting"]), "judgements.csv, line 3, field 'grade': not a number: 'high'");
        Assert.AreEqual("judgements.csv, line 3, field 'wants': query 'kettle' has intent 'kitchen' on line 2, here 'lighting'; a query has one intent" + Skip,
            Refused(folder, [.. good, "kettle,P3,1,lighting"]));
        StringAssert.StartsWith(Refused(folder, [.. good, "lamp,P2"]), "judgements.csv, line 3: ragged row: 2 fields, expected 4 (q,sku,grade,wants)");
        Assert.AreEqual("products.csv, line 4, field 'sku': duplicate product id 'P1': it is already on line 2; catalogue ids must be unique" + Skip,
            Refused(folder, good, [.. Products.Take(3), "P1,Copper pan,,kitchen,Brava,copper,1"]));
        Assert.AreEqual("products.csv, line 3, field 'sales': out of range: -3 (allowed 0 to +inf)" + Skip,
            Refused(folder, good, [.. Products.Take(2), "P2,Oak lamp,,lighting,Soleil,oak,-3", Products[3]]));
        Assert.AreEqual("products.csv, line 4, field 'sales': popularity must be a number ≥ 0, not ''" + Skip,
            Refused(folder, good, [.. Products.Take(3), "P3,Copper pan,Heavy pan,kitchen,Brava,copper,"]));
        StringAssert.StartsWith(Refused(folder, good, [.. Products.Take(2), "P2,,,lighting,Soleil,oak,3"]), "products.csv, line 3, field 'name': missing value");
        Assert.AreEqual("judgements.csv, line 1: no column 'rating' (named by the data set's \"columns\".\"relevance\"); the file's columns are: q, sku, grade, wants",
            Refused(folder, good, columns: Columns with { Relevance = "rating" }));
        Assert.AreEqual("judgements.csv, line 1: no column 'sku' (named by the data set's \"columns\".\"item\"); the file's columns are: q, product, grade, wants",
            Refused(folder, ["q,product,grade,wants", "kettle,P1,2,kitchen"]));
    }

    [TestMethod]
    public void Skipped_bad_judgements_are_counted_and_invalid_utf8_names_the_encoding_option()
    {
        using var folder = new TempFolder();
        Write(folder, "products.csv", Encoding.UTF8, Products);
        Write(folder, "judgements.csv", Encoding.UTF8, "q,sku,grade,wants", "kettle,P1,2,kitchen", "kettle,P9,1,kitchen", "lamp,P2,-1,lighting");
        var collection = Load(folder, badRows: BadRowPolicy.Skip);
        Assert.AreEqual("kettle", collection.Queries.Single().Text, "the lamp query's only row was skipped");

        File.WriteAllBytes(Path.Combine(folder.Path, "judgements.csv"), [.. Encoding.ASCII.GetBytes("q,sku,grade,wants\nkettle,P1,2,kitchen\ncaf"), 0xE9, .. Encoding.ASCII.GetBytes(",P1,1,kitchen\n")]);
        var e = Assert.Throws<ExperimentsException>(() => Load(folder));
        StringAssert.StartsWith(e.Message, "judgements.csv, line 3: not valid UTF-8 (bytes 0xE9");
        StringAssert.Contains(e.Message, "\"encoding\"");
    }

    private static string Definition(string dataset, string models = """[ { "type": "bm25" } ]""", string split = """{ "method": "random", "testFraction": 0.5 }""") => $$"""
        {
          "name": "own-search", "task": "search",
          "dataset": {{dataset}},
          "split": {{split}},
          "models": {{models}},
          "metrics": ["ndcg@10", "mrr@10", "recall@10"],
          "evaluation": { "bootstrapSamples": 0 }
        }
        """;

    private const string Dataset = """
        { "files": { "catalogue": "data/products.csv", "judgements": "data/judgements.csv" }, "format": { "delimiter": ";" },
          "columns": { "item": "sku", "title": "name", "query": "q", "relevance": "grade" } }
        """;

    /// <summary>The errors that reading <paramref name="json"/> from <paramref name="folder"/> reports, as "path: message".</summary>
    internal static List<string> Errors(string json, TempFolder folder)
    {
        var e = Assert.ThrowsExactly<DefinitionException>(() => Platform.Reader.Read(json, "own.json", folder.Path));
        return e.Errors.Select(x => $"{x.Path}: {x.Message}").ToList();
    }

    [TestMethod]
    public void Definitions_name_both_files_the_search_columns_and_models_the_files_support()
    {
        using var folder = new TempFolder();
        folder.File("data/products.csv", "sku;name\nP1;x\n");
        folder.File("data/judgements.csv", "q;sku;grade\nx;P1;1\n");
        var definition = Platform.Reader.Read(Definition(Dataset), "own.json", folder.Path);
        Assert.AreEqual(("products", "data/products.csv", "data/judgements.csv"), (definition.Dataset.Name, definition.Dataset.Files!.Catalogue, definition.Dataset.Files.Judgements));
        Assert.AreEqual(Path.Combine(folder.Path, "data", "judgements.csv"), definition.Dataset.ResolvePath(definition.Dataset.Files.Judgements!));
        Assert.AreEqual(("sku", "name", "q", "grade"), (definition.Dataset.Columns.Item, definition.Dataset.Columns.Title, definition.Dataset.Columns.Query, definition.Dataset.Columns.Relevance));

        CollectionAssert.AreEqual(new[] { "$.dataset.files: task 'search' needs \"judgements\" (query, product, relevance) or \"clicks\" (query, product, position, clicked) beside \"catalogue\": neither is given" },
            Errors(Definition(Dataset.Replace(", \"judgements\": \"data/judgements.csv\"", "")), folder));
        CollectionAssert.AreEqual(new[] { "$.dataset.files: task 'search' reads a product catalogue and its judgements: give \"catalogue\" and \"judgements\" or \"clicks\" (the split cuts the queries), not \"table\", \"train\", \"validation\" or \"test\"" },
            Errors(Definition(Dataset.Replace("\"catalogue\"", "\"table\": \"data/products.csv\", \"catalogue\"")), folder));
        CollectionAssert.AreEqual(new[] { $"$.dataset.files.judgements: no such file: {Path.Combine(folder.Path, "data", "judged.csv")} (relative paths resolve against {folder.Path}, the definition's folder)" },
            Errors(Definition(Dataset.Replace("data/judgements.csv", "data/judged.csv")), folder));
        CollectionAssert.AreEqual(new[]
        {
            "$.dataset.columns: task 'search' on own files needs column \"relevance\": the judgements' graded relevance (a number ≥ 0)",
            "$.dataset.columns.label: \"label\" is not a column of a search catalogue, judgements file or click log; task 'search' reads item, title, description, category, attributes, popularity (catalogue) and query, product, relevance, intent (judgements) or query, product, position, clicked (click log)",
        }, Errors(Definition(Dataset.Replace("\"relevance\": \"grade\"", "\"label\": \"grade\"")), folder));
        CollectionAssert.AreEqual(new[] { "$.models[0].type: model 'intent-tfidf' learns query intents, but the queries of the own files have no intent (name the judgements' query intent column as \"intent\")" },
            Errors(Definition(Dataset, """[ { "type": "intent-tfidf" } ]"""), folder));
        CollectionAssert.AreEqual(new[] { "$.split.method: task 'search' splits by query: use random or k-fold, not 'temporal'" },
            Errors(Definition(Dataset, split: """{ "method": "temporal" }"""), folder));
        CollectionAssert.AreEqual(new[] { "$.dataset.format.header: a catalogue and its judgements have different columns, so one \"columnNames\" list cannot describe both; give each file its own header line, or its own \"format\": { \"header\": false, \"columnNames\": [ … ] }" },
            Errors(Definition(Dataset.Replace("\"delimiter\": \";\"", "\"delimiter\": \";\", \"header\": false, \"columnNames\": [\"sku\", \"name\", \"q\", \"grade\"]")), folder));
        // The same column name in the catalogue and the judgements is two columns of two files, not one column with two roles.
        Platform.Reader.Read(Definition(Dataset.Replace("\"q\"", "\"name\"")), "own.json", folder.Path);

        var ranking = """
            { "name": "r", "task": "ranking", "dataset": { "files": { "catalogue": "data/products.csv", "judgements": "data/judgements.csv" }, "columns": { "user": "q", "item": "sku", "title": "name" } },
              "models": [ { "type": "most-popular" } ], "metrics": ["ndcg@10"] }
            """;
        CollectionAssert.AreEqual(new[]
        {
            "$.dataset.files: \"catalogue\", \"judgements\" and \"clicks\" are the files of task 'search', not 'ranking'",
            "$.dataset.columns.title: \"title\" is a column of a search catalogue, judgements file or click log: it belongs to task 'search', not 'ranking'",
        }, Errors(ranking, folder));
    }

    [TestMethod]
    public void A_search_run_on_own_files_scores_bm25_and_fingerprints_both_files()
    {
        using var folder = new TempFolder();
        // Six queries, each one word found in one product's title only (grade 2) and one more relevant product whose
        // text shares no word with it (grade 1). BM25 retrieves just the matching product, at rank 1, for every query:
        // NDCG@10 = (2² − 1) / ((2² − 1) + (2¹ − 1) / log₂ 3) = 3 / (3 + 0.63093) = 0.82624; MRR@10 = 1; recall@10 = 1/2.
        string[] words = ["zèbre", "quokka", "axolotl", "pangolin", "narwhal", "okapi"];
        string[] others = ["blanket", "teapot", "saucer", "doormat", "ladle", "stool"];
        var cp1252 = CodePagesEncodingProvider.Instance.GetEncoding(1252)!;
        Directory.CreateDirectory(Path.Combine(folder.Path, "data"));
        Write(folder, "data/products.csv", cp1252, ["sku;name", .. words.Select((w, i) => $"W{i};{w} figurine"), .. others.Select((w, i) => $"O{i};{w}")]);
        Write(folder, "data/judgements.csv", cp1252, ["q;sku;grade", .. words.SelectMany((w, i) => new[] { $"{w};W{i};2", $"{w};O{i};1" })]);
        var json = Definition(Dataset.Replace("\"format\": { \"delimiter\": \";\" }", "\"format\": { \"delimiter\": \";\", \"encoding\": \"windows-1252\" }"));
        var definition = Platform.Reader.Read(json, "own.json", folder.Path);
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var outcome = new ExperimentRunner(store).Run(definition, new RunOptions { ReportDirectory = Path.Combine(folder.Path, "reports") });
        Assert.AreEqual(RunStatus.Finished, outcome.Status, outcome.Error);
        var metrics = outcome.Trials.Single().Metrics.ToDictionary(m => $"{m.Metric}@{m.K}", m => m.Value);
        Assert.AreEqual(3 / (3 + 1 / Math.Log2(3)), metrics["ndcg@10"], 1e-9);
        Assert.AreEqual(1, metrics["mrr@10"], 1e-12);
        Assert.AreEqual(0.5, metrics["recall@10"], 1e-12);
        var run = store.GetRun(outcome.RunId).Run;
        string Sha(string name) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(folder.Path, "data", name))));
        Assert.AreEqual(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"judgements.csv:{Sha("judgements.csv")}\nproducts.csv:{Sha("products.csv")}"))), run.DataFingerprint);
        Assert.AreEqual("products", run.Dataset);
    }

    [TestMethod]
    public void The_builder_runs_search_on_own_files_too()
    {
        using var folder = new TempFolder();
        folder.File("products.csv", "sku,name\nP1,red kettle\nP2,blue lamp\n");
        folder.File("judgements.csv", "q,sku,grade\nkettle,P1,1\nlamp,P2,1\n");
        var definition = ExperimentBuilder.Create("own-search").ForTask("search")
            .OnFiles(DataFiles.Search("products.csv", "judgements.csv"), new ColumnRoles { Item = "sku", Title = "name", Query = "q", Relevance = "grade" }, baseDirectory: folder.Path)
            .Split("random", testFraction: 0.5)
            .AddModel("bm25")
            .WithMetrics("mrr@10")
            .WithEvaluation(e => e with { BootstrapSamples = 0 })
            .Build(Platform.Vocabulary);
        Assert.AreEqual("products", definition.Dataset.Name);
        Assert.AreEqual("judgements.csv", definition.Dataset.Files!.Judgements);
        // Each query's one relevant product is the only one with its word: rank 1, MRR 1.
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var outcome = new ExperimentRunner(store).Run(definition, new RunOptions { ReportDirectory = Path.Combine(folder.Path, "reports") });
        Assert.AreEqual(RunStatus.Finished, outcome.Status, outcome.Error);
        Assert.AreEqual(1.0, outcome.Trials.Single().Metrics.Single().Value, 1e-12);
    }

    private const string OwnFormats = """
        { "files": {
            "catalogue": { "path": "data/products.csv", "format": { "delimiter": ";", "encoding": "windows-1252" } },
            "judgements": { "path": "data/judgements.tsv", "format": { "delimiter": "\t" } } },
          "columns": { "item": "sku", "title": "name", "query": "q", "relevance": "grade" } }
        """;

    private static SearchCollection LoadDefinition(string json, TempFolder folder)
    {
        var definition = Platform.Reader.Read(json, "own.json", folder.Path);
        var dataset = new DatasetLoader().Open(DatasetRequest.From(definition.Dataset));
        return SearchCollection.Load(dataset, dataset.Manifest.Search!, null, 0, 42);
    }

    /// <summary>A ';'-separated Windows-1252 catalogue of two products and tab-separated UTF-8 judgements; returns Windows-1252.</summary>
    private static Encoding WriteOwnFormatFiles(TempFolder folder, params string[] judgements)
    {
        var cp1252 = CodePagesEncodingProvider.Instance.GetEncoding(1252)!;
        Directory.CreateDirectory(Path.Combine(folder.Path, "data"));
        Write(folder, "data/products.csv", cp1252, "sku;name", "P1;Café € mug", "P2;Tasse à thé");
        Write(folder, "data/judgements.tsv", Encoding.UTF8, ["q\tsku\tgrade", .. judgements]);
        return cp1252;
    }

    [TestMethod]
    public void Each_file_may_have_its_own_format_a_windows_1252_catalogue_beside_tab_separated_utf8_judgements()
    {
        using var folder = new TempFolder();
        var cp1252 = WriteOwnFormatFiles(folder, "café mug\tP1\t2", "tasse, thé\tP2\t1");
        var collection = LoadDefinition(Definition(OwnFormats), folder);
        CollectionAssert.AreEqual(new[] { "Café € mug", "Tasse à thé" }, collection.Catalogue!.Titles, "';' splits the catalogue, read as Windows-1252");
        CollectionAssert.AreEqual(new[] { "café mug", "tasse, thé" }, collection.Queries.Select(q => q.Text).ToArray(), "tabs split the judgements; the comma is text");
        Assert.AreEqual((2.0, 1.0), (collection.Judgements!.Grade(0, 0), collection.Judgements.Grade(1, 1)));

        // A file's format inherits what it leaves out from the shared one: the shared tab and windows-1252, the judgements' own utf-8.
        const string inherited = """
            { "files": { "catalogue": "data/products.csv", "judgements": { "path": "data/judgements.tsv", "format": { "encoding": "utf-8" } } },
              "format": { "delimiter": "\t", "encoding": "windows-1252" },
              "columns": { "item": "sku", "title": "name", "query": "q", "relevance": "grade" } }
            """;
        Write(folder, "data/products.csv", cp1252, "sku\tname", "P1\tCafé € mug", "P2\tTasse à thé");
        var shared = LoadDefinition(Definition(inherited), folder);
        CollectionAssert.AreEqual(new[] { "Café € mug", "Tasse à thé" }, shared.Catalogue!.Titles);
        CollectionAssert.AreEqual(new[] { "café mug", "tasse, thé" }, shared.Queries.Select(q => q.Text).ToArray());

        // The formats survive the canonical form, and a builder's per-file format is the same definition.
        var definition = Platform.Reader.Read(Definition(OwnFormats), "own.json", folder.Path);
        var expected = new FileFormat { Delimiter = ";", Encoding = "windows-1252" };
        Assert.AreEqual(expected, definition.Dataset.FormatOf(DataFiles.CatalogueKey));
        Assert.AreEqual(new FileFormat { Delimiter = "\t" }, definition.Dataset.FormatOf(DataFiles.JudgementsKey));
        var again = Platform.Reader.Read(DefinitionWriter.ToJson(definition), "again.json", folder.Path);
        Assert.AreEqual(DefinitionWriter.Hash(definition), DefinitionWriter.Hash(again));
        Assert.AreEqual(expected, again.Dataset.FormatOf(DataFiles.CatalogueKey));
        var built = ExperimentBuilder.Create("own-search").ForTask("search")
            .OnFiles(DataFiles.Search("data/products.csv", "data/judgements.tsv").WithFormat(DataFiles.CatalogueKey, expected).WithFormat(DataFiles.JudgementsKey, new FileFormat { Delimiter = "\t" }),
                new ColumnRoles { Item = "sku", Title = "name", Query = "q", Relevance = "grade" }, baseDirectory: folder.Path)
            .Split("random", testFraction: 0.5).AddModel("bm25").WithMetrics("ndcg@10", "mrr@10", "recall@10").WithEvaluation(e => e with { BootstrapSamples = 0 })
            .Build(Platform.Vocabulary);
        Assert.AreEqual(expected, built.Dataset.FormatOf(DataFiles.CatalogueKey));
        Assert.Throws<ArgumentException>(() => DataFiles.Search("a.csv", "b.csv").WithFormat("table", expected));
    }

    [TestMethod]
    public void Bad_rows_and_wrong_formats_of_own_format_files_are_named_by_file_line_and_field()
    {
        using var folder = new TempFolder();
        var cp1252 = WriteOwnFormatFiles(folder, "café mug\tP1\t2", "thé\tP2\thigh");
        StringAssert.StartsWith(Assert.Throws<ExperimentsException>(() => LoadDefinition(Definition(OwnFormats), folder)).Message,
            "judgements.tsv, line 3, field 'grade': not a number: 'high'");
        Write(folder, "data/judgements.tsv", Encoding.UTF8, "q\tsku\tgrade", "café mug\tP9\t2");
        StringAssert.StartsWith(Assert.Throws<ExperimentsException>(() => LoadDefinition(Definition(OwnFormats), folder)).Message,
            "judgements.tsv, line 2, field 'sku': unknown product 'P9'");
        // Without its own encoding the catalogue is read as the shared default, UTF-8: its é (0xE9) is refused on line 2.
        StringAssert.StartsWith(Assert.Throws<ExperimentsException>(() => LoadDefinition(Definition(OwnFormats.Replace(", \"encoding\": \"windows-1252\"", "")), folder)).Message,
            "products.csv, line 2: not valid UTF-8 (bytes 0xE9");
        // Read with the judgements' tab, the ';' catalogue is one column.
        StringAssert.Contains(Assert.Throws<ExperimentsException>(() => LoadDefinition(Definition(OwnFormats.Replace("\"delimiter\": \";\", ", "\"delimiter\": \"\\t\", ")), folder)).Message,
            "products.csv, line 1: no column 'sku'");

        CollectionAssert.AreEqual(new[] { "$.dataset.files.catalogue: expected a string or an object (path, format), got integer (42)" },
            Errors(Definition(OwnFormats.Replace("""{ "path": "data/products.csv", "format": { "delimiter": ";", "encoding": "windows-1252" } }""", "42")), folder));
        CollectionAssert.AreEqual(new[] { "$.dataset.files.catalogue.fromat: unknown property 'fromat'; did you mean 'format'?; allowed: path, format" },
            Errors(Definition(OwnFormats.Replace("\"format\": { \"delimiter\": \";\"", "\"fromat\": { \"delimiter\": \";\"")), folder));
        CollectionAssert.AreEqual(new[] { "$.dataset.files.judgements.format.encoding: unknown value 'utf8'; did you mean 'utf-8'?; allowed: utf-8, latin1, windows-1252" },
            Errors(Definition(OwnFormats.Replace("""{ "delimiter": "\t" }""", """{ "delimiter": "\t", "encoding": "utf8" }""")), folder));
        CollectionAssert.AreEqual(new[] { $"$.dataset.files.judgements.path: no such file: {Path.Combine(folder.Path, "data", "judged.tsv")} (relative paths resolve against {folder.Path}, the definition's folder)" },
            Errors(Definition(OwnFormats.Replace("data/judgements.tsv", "data/judged.tsv")), folder));
        CollectionAssert.AreEqual(new[] { "$.dataset.files.judgements.format: files without a header (\"header\": false) need \"columnNames\": the names of their columns in order" },
            Errors(Definition(OwnFormats.Replace("""{ "delimiter": "\t" }""", """{ "delimiter": "\t", "header": false }""")), folder));
        CollectionAssert.AreEqual(new[] { "$.dataset.files.catalogue.format.delimiter: the delimiter must not contain a line break or the quote character (')" },
            Errors(Definition(OwnFormats.Replace("\"delimiter\": \";\", \"encoding\"", "\"delimiter\": \"'\", \"quote\": \"'\", \"encoding\"")), folder));

        // Each file with its own header-less column list is fine for search: two lists describe two files.
        Write(folder, "data/products.csv", cp1252, "P1;Café € mug", "P2;Tasse à thé");
        Write(folder, "data/judgements.tsv", Encoding.UTF8, "café mug\tP1\t2");
        var headerless = OwnFormats
            .Replace("\"encoding\": \"windows-1252\"", "\"encoding\": \"windows-1252\", \"header\": false, \"columnNames\": [\"sku\", \"name\"]")
            .Replace("""{ "delimiter": "\t" }""", """{ "delimiter": "\t", "header": false, "columnNames": ["q", "sku", "grade"] }""");
        var collection = LoadDefinition(Definition(headerless), folder);
        Assert.AreEqual("Café € mug", collection.Catalogue!.Titles[0]);
        Assert.AreEqual(2.0, collection.Judgements!.Grade(0, 0));
    }

    [TestMethod]
    public void Search_language_chinese_segments_an_own_catalogue_where_english_ranks_a_look_alike_first()
    {
        using var folder = new TempFolder();
        // Two queries, each a word whose characters also occur, in other words, in a shorter look-alike title: 耳机
        // (earphones) in 木耳手机壳 (wood-ear-fungus phone case), 手表 (watch) in 手机表带 (phone watch strap).
        // SmartCn finds the words, so each query retrieves only its product: MRR@10 = NDCG@10 = 1. The English analyser
        // matches single characters, and the shorter look-alike (same term frequencies) ranks first: the product is
        // second, MRR@10 = 1/2 and NDCG@10 = 1 / log2(3), whichever query is the test one.
        Directory.CreateDirectory(Path.Combine(folder.Path, "data"));
        Write(folder, "data/products.csv", Encoding.UTF8, "sku;name", "E1;无线蓝牙运动耳机", "C1;木耳手机壳", "W1;智能运动防水手表", "S1;手机表带");
        Write(folder, "data/judgements.csv", Encoding.UTF8, "q;sku;grade", "耳机;E1;1", "手表;W1;1");
        double Mrr(string search)
        {
            var json = Definition(Dataset, split: """{ "method": "random", "testFraction": 0.5 }""").Replace("\"evaluation\"", $"{search}\"evaluation\"");
            var definition = Platform.Reader.Read(json, "own.json", folder.Path);
            using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
            var outcome = new ExperimentRunner(store).Run(definition, new RunOptions { ReportDirectory = Path.Combine(folder.Path, "reports") });
            Assert.AreEqual(RunStatus.Finished, outcome.Status, outcome.Error);
            var metrics = outcome.Trials.Single().Metrics.ToDictionary(m => $"{m.Metric}@{m.K}", m => m.Value);
            Assert.AreEqual(metrics["mrr@10"] == 1 ? 1 : 1 / Math.Log2(3), metrics["ndcg@10"], 1e-9);
            return metrics["mrr@10"];
        }
        Assert.AreEqual(1.0, Mrr("\"search\": { \"language\": \"chinese\" }, "), 1e-12);
        Assert.AreEqual(0.5, Mrr(""), 1e-12, "english is the default for own files");
        Assert.AreEqual(0.5, Mrr("\"search\": { \"language\": \"english\" }, "), 1e-12);
    }
}
