using System.Security.Cryptography;
using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Datasets;
using Experiments.Datasets.Manifests;

namespace Experiments.Tests.Datasets;

/// <summary>`datasets add`: the manifest written for a user's files — hashes, sniffed types and roles — and that it loads.</summary>
[TestClass]
public sealed class DatasetSnifferTests
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static SniffedDataset Sniff(string name, ColumnRoles? columns = null, FileFormat? format = null, params (string Table, string Path)[] files) =>
        DatasetSniffer.Sniff(new NewDataset
        {
            Name = name,
            Files = files.Select(f => new KeyValuePair<string, string>(f.Table, f.Path)).ToList(),
            Columns = columns ?? new ColumnRoles(),
            Format = format ?? new FileFormat(),
        }, Now);

    private static Dictionary<string, (ColumnType Type, string? Role)> Columns(TableManifest table) => table.Columns.ToDictionary(c => c.Name, c => (c.Type, c.Role));

    [TestMethod]
    public void Ratings_with_common_column_names_get_their_roles_types_and_hash()
    {
        using var folder = new TempFolder();
        var path = folder.File("ratings.csv", "userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,1029,3,1260759179\n2,31,4,1260759182\n");
        var manifest = Sniff("my-ratings", files: ("ratings", path)).Manifest;
        var table = manifest.Tables.Single();
        Assert.AreEqual(TableRole.Interactions, table.Role);
        var columns = Columns(table);
        Assert.AreEqual((ColumnType.String, "user"), columns["userId"]);
        Assert.AreEqual((ColumnType.String, "item"), columns["movieId"]);
        Assert.AreEqual((ColumnType.Float, "rating"), columns["rating"]);
        Assert.AreEqual((ColumnType.Int64, "timestamp"), columns["timestamp"]);
        Assert.AreEqual("ratings", manifest.DefaultTable);
        Assert.AreEqual(folder.Path, manifest.Folder);
        Assert.AreEqual("2025-06-01T12:00:00Z", manifest.Added);
        var file = manifest.Files.Single();
        Assert.AreEqual(("ratings.csv", Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))), new FileInfo(path).Length), (file.Path, file.Sha256, file.Bytes));
    }

    [TestMethod]
    public void A_click_log_gets_its_label_numbers_categories_free_text_and_times()
    {
        using var folder = new TempFolder();
        var path = folder.File("clicks.csv",
            "customer_id,sku,price,qty,title,clicked,when\n" +
            "c1,s1,9.99,1,\"Stainless steel water bottle, 750 ml\",1,2024-05-01T10:00:00Z\n" +
            "c2,s2,24.5,3,\"Bamboo cutting board with juice groove\",0,2024-05-02\n" +
            "c1,s3,5,2,\"Set of four ceramic espresso cups\",0,2024-05-03 08:15:00\n");
        var table = Sniff("my-clicks", files: ("clicks", path)).Manifest.Tables.Single();
        Assert.AreEqual(TableRole.Records, table.Role);
        var columns = Columns(table);
        Assert.AreEqual((ColumnType.String, "label"), columns["clicked"]);
        CollectionAssert.AreEqual(new[] { "0", "1" }, table.ColumnWithRole("label")!.Allowed!.ToArray());
        Assert.AreEqual((ColumnType.Float, (string?)null), columns["price"]);
        Assert.AreEqual((ColumnType.Int64, (string?)null), columns["qty"]);
        Assert.AreEqual((ColumnType.String, "text"), columns["title"], "long values with spaces are free text");
        Assert.AreEqual((ColumnType.String, "user"), columns["customer_id"]);
        Assert.AreEqual((ColumnType.DateTime, "timestamp"), columns["when"]);
    }

    [TestMethod]
    public void Given_roles_win_over_names_and_train_test_files_form_the_default_split()
    {
        using var folder = new TempFolder();
        var train = folder.File("split/train.tsv", "who\twhat\tstars\tuser\na\tx\t4\t7\nb\ty\t5\t8\n");
        var test = folder.File("split/test.tsv", "who\twhat\tstars\tuser\na\ty\t3\t7\n");
        var manifest = Sniff("my-split", new ColumnRoles { User = "who", Item = "what" }, new FileFormat { Delimiter = "\t" }, ("train", train), ("test", test)).Manifest;
        var split = manifest.Splits.Single();
        Assert.AreEqual(("default", "train", "test", (string?)null), (split.Name, split.Train, split.Test, split.Validation));
        Assert.AreEqual("train", manifest.DefaultTable);
        var columns = Columns(manifest.FindTable("test")!);
        Assert.AreEqual((ColumnType.String, "user"), columns["who"]);
        Assert.AreEqual((ColumnType.Int64, (string?)null), columns["user"], "a column named 'user' is not the user when another column was given that role");
        Assert.AreEqual((ColumnType.Float, "rating"), columns["stars"]);
        CollectionAssert.AreEqual(new[] { "train.tsv", "test.tsv" }, manifest.Files.Select(f => f.Path).ToArray());

        // The manifest loads through the ordinary loader: same checks, shared id maps.
        var loaded = new DatasetLoader(new DatasetRegistry([manifest])).Open(new DatasetRequest("my-split")).PredefinedSplit("default");
        Assert.AreEqual((2, 1), (loaded.Train.Length, loaded.Test.Length));
        CollectionAssert.AreEqual(new[] { "a", "b" }, loaded.All.Users.Ids.ToArray());
    }

    [TestMethod]
    public void A_label_that_is_not_0_or_1_is_refused_with_its_line()
    {
        using var folder = new TempFolder();
        var path = folder.File("c.csv", "price,clicked\n1,0\n2,1\n3,2\n");
        var e = Assert.ThrowsExactly<DataFileException>(() => Sniff("c", new ColumnRoles { Label = "clicked" }, files: ("c", path)));
        Assert.AreEqual("c.csv: column 'clicked' cannot be the label: '2' at line 4 is not a click label (allowed: 0, 1)", e.Message);
    }

    [TestMethod]
    public void A_rating_that_is_not_a_number_is_refused_with_its_line()
    {
        using var folder = new TempFolder();
        var path = folder.File("r.csv", "user,item,score\na,x,4\nb,y,great\n");
        var e = Assert.ThrowsExactly<DataFileException>(() => Sniff("r", new ColumnRoles { Rating = "score" }, files: ("r", path)));
        Assert.AreEqual("r.csv: column 'score' cannot be the rating: not a number: 'great' at line 3", e.Message);
    }

    [TestMethod]
    public void A_table_without_users_items_or_labels_says_what_to_name()
    {
        using var folder = new TempFolder();
        var path = folder.File("x.csv", "a,b\n1,2\n");
        StringAssert.StartsWith(Assert.ThrowsExactly<ExperimentsException>(() => Sniff("x", files: ("x", path))).Message,
            "x.csv: cannot tell what the table holds (columns: a, b). Name the user and item columns");
    }

    [TestMethod]
    public void Ragged_rows_are_reported_as_warnings()
    {
        using var folder = new TempFolder();
        var path = folder.File("r.csv", "user,item\na,x\nb\nc,y,z\n");
        var warnings = Sniff("r", files: ("r", path)).Warnings;
        Assert.AreEqual("r.csv, line 3: 1 fields, expected 2; such rows fail to load unless the definition says \"badRows\": \"skip\"", warnings[0]);
        Assert.AreEqual("r.csv: 2 rows with the wrong number of fields in all", warnings[1]);
    }

    [TestMethod]
    [DataRow("a,b;c\n", ",")]
    [DataRow("a\tb\tc;d\n", "\t")]
    [DataRow("a;b;c,d\n", ";")]
    [DataRow("a|b|c\n", "|")]
    [DataRow("single\n", ",")]
    public void The_delimiter_is_the_most_frequent_one_on_the_first_line(string firstLine, string expected)
    {
        using var folder = new TempFolder();
        Assert.AreEqual(expected, DatasetSniffer.SniffDelimiter(folder.File("f.txt", firstLine + "1,2\n"), "utf-8"));
    }

    [TestMethod]
    public void A_user_manifest_is_found_beside_the_built_in_ones_and_a_broken_one_is_reported()
    {
        using var folder = new TempFolder();
        using var data = new TempFolder();
        var manifest = Sniff("mine", files: ("ratings", data.File("ratings.csv", "user,item\na,x\n"))).Manifest;
        folder.File("mine.json", DatasetRegistry.ToJson(manifest));
        folder.File("broken.json", "{ \"name\": ");
        folder.File("clash.json", DatasetRegistry.ToJson(manifest with { Name = "movielens-100k" }));
        var registry = DatasetRegistry.WithUserManifests(folder.Path);
        Assert.AreEqual("2025-06-01T12:00:00Z", registry.Get("mine").Added);
        Assert.IsTrue(registry.Contains("demo-shop"));
        Assert.HasCount(2, registry.Problems);
        StringAssert.StartsWith(registry.Problems[0], Path.Combine(folder.Path, "broken.json") + ": invalid data set manifest");
        Assert.AreEqual($"{Path.Combine(folder.Path, "clash.json")}: data set 'movielens-100k' is built in; rename it (`datasets add` with another NAME)", registry.Problems[1]);
        StringAssert.Contains(Assert.ThrowsExactly<ExperimentsException>(() => registry.Get("nope")).Message, "(left out: ");
    }
}
