using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Datasets;
using Experiments.Datasets.Manifests;

namespace Experiments.Tests.Datasets;

/// <summary>Each kind of bad data file gives a clear error naming file, line and field — or, when skipping, a count.</summary>
[TestClass]
public sealed class BadDataTests
{
    private const string Manifest = """
        {
          "name": "tiny", "title": "Tiny", "description": "test data", "licence": "none", "folder": "tiny",
          "files": [ { "path": "ratings.csv", "sha256": null }, { "path": "clicks.csv", "sha256": null }, { "path": "vectors.txt", "sha256": null } ],
          "defaultTable": "ratings",
          "tables": [
            { "name": "ratings", "file": "ratings.csv", "role": "interactions", "header": true,
              "columns": [ { "name": "userId", "role": "user", "required": true }, { "name": "movieId", "role": "item", "required": true },
                           { "name": "rating", "type": "float", "role": "rating", "required": true, "min": 0.5, "max": 5 },
                           { "name": "timestamp", "type": "int64", "role": "timestamp" } ] },
            { "name": "clicks", "file": "clicks.csv", "role": "records", "header": true,
              "columns": [ { "name": "label", "role": "label", "required": true, "allowed": ["0", "1"] }, { "name": "I1", "type": "int64" }, { "name": "C1" } ] },
            { "name": "vectors", "file": "vectors.txt", "role": "word-vectors", "format": "word-vectors" }
          ]
        }
        """;

    private const string Header = "userId,movieId,rating,timestamp\n";

    private static Dataset Open(TempFolder folder, BadRowPolicy badRows = BadRowPolicy.Fail, DuplicatePolicy duplicates = DuplicatePolicy.Keep) =>
        new DatasetLoader(new DatasetRegistry([DatasetRegistry.Parse(Manifest, "tiny.json")]))
            .Open(new DatasetRequest("tiny") { DataDirectory = folder.Path, BadRows = badRows, Duplicates = duplicates });

    private static DataFileException Fails(string ratings, string table = "ratings")
    {
        using var folder = new TempFolder();
        folder.File($"tiny/{table}.csv", ratings);
        var dataset = Open(folder);
        return Assert.ThrowsExactly<DataFileException>(() =>
        {
            if (table == "ratings") dataset.Interactions();
            else dataset.Table(table);
        });
    }

    [TestMethod]
    public void Good_rows_load()
    {
        using var folder = new TempFolder();
        folder.File("tiny/ratings.csv", Header + "1,10,4.5,100\n1,11,3,101\n2,10,5,102\n");
        var data = Open(folder).Interactions();
        Assert.AreEqual(3, data.Count);
        Assert.AreEqual(2, data.Users.Count);
        Assert.AreEqual(2, data.Items.Count);
        CollectionAssert.AreEqual(new[] { 4.5f, 3f, 5f }, data.Rating);
        CollectionAssert.AreEqual(new[] { 100L, 101L, 102L }, data.Timestamp);
    }

    [TestMethod]
    public void Empty_file()
    {
        var e = Fails("");
        Assert.AreEqual("ratings.csv: the file is empty (0 bytes)", e.Message);
    }

    [TestMethod]
    public void Header_only()
    {
        var e = Fails(Header);
        Assert.AreEqual("ratings.csv: the file has no usable data rows", e.Message);
    }

    [TestMethod]
    public void Header_does_not_match_the_schema()
    {
        var e = Fails("user,movie,rating,timestamp\n1,10,4,1\n");
        Assert.AreEqual(1, e.Line);
        StringAssert.Contains(e.Message, "expected 4 columns (userId,movieId,rating,timestamp), found 4 (user,movie,rating,timestamp)");
    }

    [TestMethod]
    public void Ragged_row()
    {
        var e = Fails(Header + "1,10,4,1\n2,11,3\n");
        Assert.AreEqual(3, e.Line);
        StringAssert.StartsWith(e.Message, "ratings.csv, line 3: ragged row: 3 fields, expected 4");
        StringAssert.Contains(e.Message, "\"badRows\": \"skip\"");
    }

    [TestMethod]
    public void Rating_that_is_not_a_number()
    {
        var e = Fails(Header + "1,10,four,1\n");
        Assert.AreEqual("rating", e.Field);
        StringAssert.StartsWith(e.Message, "ratings.csv, line 2, field 'rating': not a number: 'four' (column type float)");
    }

    [TestMethod]
    public void Rating_out_of_range()
    {
        var e = Fails(Header + "1,10,4,1\n1,11,7,2\n");
        Assert.AreEqual(3, e.Line);
        StringAssert.Contains(e.Message, "out of range: 7 (allowed 0.5 to 5)");
    }

    [TestMethod]
    public void Missing_required_value()
    {
        var e = Fails(Header + ",10,4,1\n");
        Assert.AreEqual("userId", e.Field);
        StringAssert.Contains(e.Message, "missing value");
    }

    [TestMethod]
    public void Timestamp_with_text()
    {
        var e = Fails(Header + "1,10,4,yesterday\n");
        Assert.AreEqual("timestamp", e.Field);
        StringAssert.Contains(e.Message, "not a number: 'yesterday' (column type int64)");
    }

    [TestMethod]
    public void Unterminated_quote()
    {
        var e = Fails(Header + "1,\"10,4,1\n");
        StringAssert.Contains(e.Message, "unterminated quote");
    }

    [TestMethod]
    public void Click_label_that_is_not_0_or_1()
    {
        var e = Fails("label,I1,C1\n1,5,a\n2,3,b\n", "clicks");
        Assert.AreEqual(3, e.Line);
        StringAssert.Contains(e.Message, "field 'label': not an allowed value: '2' (allowed: 0, 1)");
    }

    [TestMethod]
    public void Numeric_column_with_text()
    {
        var e = Fails("label,I1,C1\n1,five,a\n", "clicks");
        StringAssert.Contains(e.Message, "field 'I1': not a number: 'five' (column type int64)");
    }

    [TestMethod]
    public void Missing_optional_numbers_are_NaN_and_counted()
    {
        using var folder = new TempFolder();
        folder.File("tiny/clicks.csv", "label,I1,C1\n1,,a\n0,4,\n");
        var dataset = Open(folder);
        var table = dataset.Table("clicks");
        Assert.IsTrue(double.IsNaN(table["I1"].Numbers![0]));
        Assert.AreEqual(4, table["I1"].Numbers![1]);
        Assert.AreEqual(1, dataset.Checks.Counts["missing values: I1"]);
        Assert.AreEqual(1, dataset.Checks.Counts["missing values: C1"]);
    }

    [TestMethod]
    public void Skip_policy_skips_and_counts_each_kind_with_examples()
    {
        using var folder = new TempFolder();
        folder.File("tiny/ratings.csv", Header + "1,10,4,1\n2,11\n3,12,9,1\n4,13,x,1\n5,14,2,5\n6,15\n");
        var dataset = Open(folder, BadRowPolicy.Skip);
        var data = dataset.Interactions();
        Assert.AreEqual(2, data.Count);
        Assert.AreEqual(4, dataset.Checks.SkippedRows);
        Assert.AreEqual(2, dataset.Checks.Counts["skipped: ragged row"]);
        Assert.AreEqual(1, dataset.Checks.Counts["skipped: out of range"]);
        Assert.AreEqual(1, dataset.Checks.Counts["skipped: not a number"]);
        var example = dataset.Checks.Examples.First(e => e.Kind == "skipped: ragged row");
        Assert.AreEqual("ratings.csv", example.File);
        Assert.AreEqual(3, example.Line);
    }

    [TestMethod]
    public void Duplicate_rows_fail_drop_or_keep()
    {
        const string rows = Header + "1,10,4,1\n2,10,3,2\n1,10,4,1\n";
        using var folder = new TempFolder();
        folder.File("tiny/ratings.csv", rows);
        var e = Assert.ThrowsExactly<DataFileException>(() => Open(folder, duplicates: DuplicatePolicy.Fail).Interactions());
        StringAssert.Contains(e.Message, "line 4: this row repeats line 2 exactly");
        var dropped = Open(folder, duplicates: DuplicatePolicy.Drop);
        Assert.AreEqual(2, dropped.Interactions().Count);
        Assert.AreEqual(1, dropped.Checks.Counts["duplicate rows dropped"]);
        var kept = Open(folder);
        Assert.AreEqual(3, kept.Interactions().Count);
        Assert.AreEqual(1, kept.Checks.Counts["duplicate rows kept"]);
    }

    [TestMethod]
    public void Missing_data_set_says_where_it_looked_and_how_to_get_it()
    {
        using var folder = new TempFolder();
        // A named data directory is the only place looked in: the error names it and what it should hold.
        var e = Assert.ThrowsExactly<ExperimentsException>(() => Open(folder));
        StringAssert.Contains(e.Message, $"Data set 'tiny' is not in the data directory {folder.Path}");
        StringAssert.Contains(e.Message, $"it should hold the folder {Path.Combine(folder.Path, "tiny")} with its files (ratings.csv, clicks.csv, vectors.txt)");
        StringAssert.Contains(e.Message, $"experiments datasets pull tiny --data-dir {folder.Path}");
    }

    [TestMethod]
    public void Missing_file_in_a_present_folder()
    {
        using var folder = new TempFolder();
        folder.File("tiny/clicks.csv", "label,I1,C1\n1,2,a\n");
        var e = Assert.ThrowsExactly<DataFileException>(() => Open(folder).Interactions());
        StringAssert.Contains(e.Message, "ratings.csv: the file does not exist");
    }

    [TestMethod]
    public void Word_vectors_with_a_ragged_line()
    {
        using var folder = new TempFolder();
        folder.File("tiny/vectors.txt", "the 0.1 0.2 0.3\nof 0.4 0.5\n");
        var e = Assert.ThrowsExactly<DataFileException>(() => Open(folder).WordVectors());
        StringAssert.Contains(e.Message, "vectors.txt, line 2: ragged row: 2 components, expected 3");
    }

    [TestMethod]
    public void Unknown_table_lists_the_tables()
    {
        using var folder = new TempFolder();
        folder.File("tiny/ratings.csv", Header + "1,10,4,1\n");
        var e = Assert.ThrowsExactly<ExperimentsException>(() => Open(folder).Table("movies"));
        StringAssert.Contains(e.Message, "allowed: ratings, clicks, vectors");
    }

    [TestMethod]
    public void A_file_that_differs_from_the_official_release_is_flagged()
    {
        var manifest = DatasetRegistry.Parse(Manifest.Replace("{ \"path\": \"ratings.csv\", \"sha256\": null }",
            "{ \"path\": \"ratings.csv\", \"sha256\": \"0000000000000000000000000000000000000000000000000000000000000000\" }"), "tiny.json");
        using var folder = new TempFolder();
        folder.File("tiny/ratings.csv", Header + "1,10,4,1\n");
        var dataset = new DatasetLoader(new DatasetRegistry([manifest])).Open(new DatasetRequest("tiny") { DataDirectory = folder.Path });
        dataset.Interactions();
        Assert.AreEqual(1, dataset.Checks.Counts["warning"]);
        StringAssert.Contains(dataset.Checks.Examples.Single(e => e.Kind == "warning").Message, "differs from the official release");
    }
}
