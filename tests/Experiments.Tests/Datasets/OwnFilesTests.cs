using System.Security.Cryptography;
using System.Text;
using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Datasets;
using Experiments.Datasets.Loading;

namespace Experiments.Tests.Datasets;

/// <summary>Users' own files, written by the tests in several encodings, delimiters and layouts, loaded through the checked reader.</summary>
[TestClass]
public sealed class OwnFilesTests
{
    private static readonly ColumnRoles Ratings = new() { User = "customer", Item = "product", Rating = "stars" };

    private static DatasetSpec Spec(TempFolder folder, DataFiles files, ColumnRoles columns, FileFormat? format = null) => new()
    {
        Name = "own",
        Files = files,
        Columns = columns,
        Format = format ?? new FileFormat(),
        BaseDirectory = folder.Path,
    };

    private static Dataset Open(DatasetSpec spec, BadRowPolicy badRows = BadRowPolicy.Fail, DuplicatePolicy duplicates = DuplicatePolicy.Keep) =>
        new DatasetLoader().Open(DatasetRequest.From(spec with { BadRows = badRows, Duplicates = duplicates }));

    private static string WriteBytes(TempFolder folder, string name, byte[] bytes)
    {
        var path = Path.Combine(folder.Path, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static string[] Ids(Experiments.Core.Data.IdMap map) => map.Ids.ToArray();

    [TestMethod]
    public void Utf8_with_and_without_a_byte_order_mark_reads_the_same_ids()
    {
        using var folder = new TempFolder();
        var text = "customer,product,stars\nJürgen,Crème brûlée,4\nZoë,東京タワー,5\n";
        WriteBytes(folder, "plain.csv", Encoding.UTF8.GetBytes(text));
        WriteBytes(folder, "bom.csv", [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(text)]);
        var plain = Open(Spec(folder, DataFiles.Single("plain.csv"), Ratings)).Interactions();
        var bom = Open(Spec(folder, DataFiles.Single("bom.csv"), Ratings)).Interactions();
        CollectionAssert.AreEqual(new[] { "Jürgen", "Zoë" }, Ids(plain.Users));
        CollectionAssert.AreEqual(new[] { "Crème brûlée", "東京タワー" }, Ids(plain.Items));
        CollectionAssert.AreEqual(Ids(plain.Users), Ids(bom.Users), "the byte order mark is not part of the first column's name or values");
        CollectionAssert.AreEqual(new[] { 4f, 5f }, bom.Rating);
    }

    [TestMethod]
    public void Latin1_on_request()
    {
        using var folder = new TempFolder();
        // "Café" and "Müller" in ISO-8859-1: é = 0xE9, ü = 0xFC.
        WriteBytes(folder, "latin1.csv", [.. "customer,product,stars\nM"u8, 0xFC, .. "ller,Caf"u8, 0xE9, .. ",3\n"u8]);
        var data = Open(Spec(folder, DataFiles.Single("latin1.csv"), Ratings, new FileFormat { Encoding = "latin1" })).Interactions();
        Assert.AreEqual("Müller", data.Users[0]);
        Assert.AreEqual("Café", data.Items[0]);
    }

    [TestMethod]
    public void Windows_1252_reads_its_own_characters_in_0x80_to_0x9F()
    {
        using var folder = new TempFolder();
        // 0x80 is € and 0x93/0x94 are “ ” in Windows-1252; in Latin-1 the same bytes are the C1 controls U+0080, U+0093, U+0094.
        byte[] bytes = [.. "customer,product,stars\nana,"u8, 0x93, .. "Deluxe"u8, 0x94, .. " 9"u8, 0x80, .. ",5\n"u8];
        WriteBytes(folder, "cp1252.csv", bytes);
        var spec = Spec(folder, DataFiles.Single("cp1252.csv"), Ratings, new FileFormat { Quote = FileFormat.NoQuote, Encoding = "windows-1252" });
        Assert.AreEqual("“Deluxe” 9€", Open(spec).Interactions().Items[0]);
        var latin1 = spec with { Format = spec.Format with { Encoding = "latin1" } };
        Assert.AreEqual("\u0093Deluxe\u0094 9\u0080", Open(latin1).Interactions().Items[0]);
    }

    [TestMethod]
    public void Invalid_utf8_names_the_file_the_line_the_bytes_and_the_encoding_option()
    {
        using var folder = new TempFolder();
        // Line 3 holds a Latin-1 é (0xE9) followed by 't': not a UTF-8 sequence.
        WriteBytes(folder, "shop.csv", [.. "customer,product,stars\nana,tea,4\nbob,th"u8, 0xE9, .. ",5\n"u8]);
        var e = Assert.ThrowsExactly<DataFileException>(() => Open(Spec(folder, DataFiles.Single("shop.csv"), Ratings)).Interactions());
        Assert.AreEqual("shop.csv", e.File);
        Assert.AreEqual(3, e.Line);
        StringAssert.StartsWith(e.Message, "shop.csv, line 3: not valid UTF-8 (bytes 0xE9 0x2C 0x35 0x0A)");
        StringAssert.Contains(e.Message, "set \"encoding\": \"latin1\" or \"windows-1252\" in the data set's \"format\"");
    }

    [TestMethod]
    public void Invalid_utf8_far_into_a_large_file_is_located_exactly()
    {
        using var folder = new TempFolder();
        var rows = new StringBuilder("customer,product,stars\n");
        for (var i = 0; i < 20_000; i++) rows.Append($"user{i},item{i % 50},{1 + i % 5}\n");
        // 20,001 lines before it (header + rows), so the bad row is line 20,002; a lone continuation byte 0x80 is never valid UTF-8.
        WriteBytes(folder, "big.csv", [.. Encoding.UTF8.GetBytes(rows.ToString()), .. "last,x"u8, 0x80, .. ",3\n"u8]);
        var e = Assert.ThrowsExactly<DataFileException>(() => Open(Spec(folder, DataFiles.Single("big.csv"), Ratings)).Interactions());
        Assert.AreEqual(20_002, e.Line);
    }

    [TestMethod]
    [DataRow(",", "comma")]
    [DataRow("\t", "tab")]
    [DataRow(";", "semicolon")]
    [DataRow("|", "pipe")]
    public void Every_common_delimiter(string delimiter, string name)
    {
        using var folder = new TempFolder();
        string Row(params string[] fields) => string.Join(delimiter, fields) + "\n";
        folder.File($"{name}.txt", Row("customer", "product", "stars") + Row("a", "x", "4.5") + Row("a", "y", "2") + Row("b", "x", "1"));
        var data = Open(Spec(folder, DataFiles.Single($"{name}.txt"), Ratings, new FileFormat { Delimiter = delimiter })).Interactions();
        CollectionAssert.AreEqual(new[] { "a", "b" }, Ids(data.Users));
        CollectionAssert.AreEqual(new[] { "x", "y" }, Ids(data.Items));
        CollectionAssert.AreEqual(new[] { 0, 0, 1 }, data.User);
        CollectionAssert.AreEqual(new[] { 0, 1, 0 }, data.Item);
        CollectionAssert.AreEqual(new[] { 4.5f, 2f, 1f }, data.Rating);
    }

    [TestMethod]
    public void Files_without_a_header_take_the_given_column_names()
    {
        using var folder = new TempFolder();
        folder.File("u.data", "7\t42\t3\t881250949\n8\t42\t5\t881250950\n");
        var spec = Spec(folder, DataFiles.Single("u.data"), new ColumnRoles { User = "user", Item = "movie", Rating = "rating", Timestamp = "time" },
            new FileFormat { Delimiter = "\t", Header = false, ColumnNames = ["user", "movie", "rating", "time"] });
        var data = Open(spec).Interactions();
        Assert.AreEqual(2, data.Count, "the first line is data, not a header");
        CollectionAssert.AreEqual(new[] { 881250949L, 881250950L }, data.Timestamp);
    }

    [TestMethod]
    public void Iso_8601_timestamps_become_unix_seconds()
    {
        using var folder = new TempFolder();
        folder.File("t.csv", "customer,product,stars,when\na,x,1,2024-03-01\na,y,2,2024-03-01T12:30:00Z\na,z,3,2024-03-01 12:30:00+01:00\na,w,4,1709251200\n");
        var data = Open(Spec(folder, DataFiles.Single("t.csv"), Ratings with { Timestamp = "when" })).Interactions();
        // 2024-03-01T00:00Z = 1,704,067,200 (2024-01-01) + (31 + 29) days × 86,400 s; +12:30 = 45,000 s; an offset of +01:00 is 3,600 s earlier in UTC.
        CollectionAssert.AreEqual(new[] { 1709251200L, 1709296200L, 1709292600L, 1709251200L }, data.Timestamp);
        Assert.IsTrue(data.HasTimestamps);
    }

    [TestMethod]
    public void A_time_that_is_none_names_the_allowed_forms()
    {
        using var folder = new TempFolder();
        folder.File("t.csv", "customer,product,stars,when\na,x,1,01/03/2024\n");
        var e = Assert.ThrowsExactly<DataFileException>(() => Open(Spec(folder, DataFiles.Single("t.csv"), Ratings with { Timestamp = "when" })).Interactions());
        StringAssert.StartsWith(e.Message, "t.csv, line 2, field 'when': not a time: '01/03/2024' (allowed: Unix seconds, or an ISO 8601 date or date-time");
    }

    [TestMethod]
    public void Quoted_fields_hold_delimiters_quotes_and_line_breaks()
    {
        using var folder = new TempFolder();
        folder.File("clicks.csv", "title,price,clicked\n\"Mug, large \"\"XL\"\"\nsecond line\",9.5,1\nplain,3,0\n\"a;b\",1,0\n");
        var spec = Spec(folder, DataFiles.Single("clicks.csv"), new ColumnRoles { Label = "clicked", Numeric = ["price"], Text = ["title"] });
        var table = Open(spec).Table("table");
        CollectionAssert.AreEqual(new[] { "Mug, large \"XL\"\nsecond line", "plain", "a;b" }, table["title"].Strings);
        CollectionAssert.AreEqual(new[] { 9.5, 3.0, 1.0 }, table["price"].Numbers);
        CollectionAssert.AreEqual(new[] { 2L, 4L, 5L }, table.SourceLines, "the quoted line break moves every later row down a line");
    }

    [TestMethod]
    public void A_single_quote_can_be_the_quote_character()
    {
        using var folder = new TempFolder();
        folder.File("q.csv", "customer;product;stars\n'Smith; J.';'It''s';2\n");
        var data = Open(Spec(folder, DataFiles.Single("q.csv"), Ratings, new FileFormat { Delimiter = ";", Quote = "'" })).Interactions();
        Assert.AreEqual("Smith; J.", data.Users[0]);
        Assert.AreEqual("It's", data.Items[0]);
    }

    [TestMethod]
    public void Fingerprint_is_the_files_sha256_and_origin_their_paths()
    {
        using var folder = new TempFolder();
        var train = folder.File("data/train.csv", "customer,product,stars\na,x,4\nb,y,2\n");
        var test = folder.File("data/test.csv", "customer,product,stars\na,y,3\n");
        var dataset = Open(Spec(folder, DataFiles.Split("data/train.csv", "data/test.csv"), Ratings));
        var split = dataset.PredefinedSplit(DataFiles.SplitName);
        CollectionAssert.AreEqual(new[] { 0, 1 }, split.Train);
        CollectionAssert.AreEqual(new[] { 2 }, split.Test);
        string Sha(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
        // Dataset.Fingerprint: SHA-256 over "file:sha256" lines in file-name order (test.csv before train.csv).
        var expected = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"test.csv:{Sha(test)}\ntrain.csv:{Sha(train)}")));
        Assert.AreEqual(expected, dataset.Fingerprint);
        Assert.AreEqual($"{train}; {test}", dataset.Origin);
        Assert.AreEqual("own", dataset.Name);
    }

    [TestMethod]
    public void Ragged_row()
    {
        using var folder = new TempFolder();
        folder.File("r.csv", "customer,product,stars\na,x,4\nb,y\n");
        var e = Assert.ThrowsExactly<DataFileException>(() => Open(Spec(folder, DataFiles.Single("r.csv"), Ratings)).Interactions());
        StringAssert.StartsWith(e.Message, "r.csv, line 3: ragged row: 2 fields, expected 3 (customer,product,stars)");
        StringAssert.Contains(e.Message, "\"badRows\": \"skip\"");
    }

    [TestMethod]
    public void Rating_that_is_not_a_number()
    {
        using var folder = new TempFolder();
        folder.File("r.csv", "customer,product,stars\na,x,4\nb,y,five\n");
        var e = Assert.ThrowsExactly<DataFileException>(() => Open(Spec(folder, DataFiles.Single("r.csv"), Ratings)).Interactions());
        Assert.AreEqual("stars", e.Field);
        StringAssert.StartsWith(e.Message, "r.csv, line 3, field 'stars': not a number: 'five' (column type float)");
    }

    [TestMethod]
    public void Rating_outside_the_scale()
    {
        using var folder = new TempFolder();
        folder.File("r.csv", "customer,product,stars\na,x,4\nb,y,7\n");
        var spec = Spec(folder, DataFiles.Single("r.csv"), Ratings) with { RatingScale = new RatingScale(1, 5) };
        var e = Assert.ThrowsExactly<DataFileException>(() => Open(spec).Interactions());
        StringAssert.StartsWith(e.Message, "r.csv, line 3, field 'stars': out of range: 7 (allowed 1 to 5)");
    }

    [TestMethod]
    public void Click_label_2()
    {
        using var folder = new TempFolder();
        folder.File("c.csv", "price,clicked\n1,0\n2,1\n3,2\n");
        var spec = Spec(folder, DataFiles.Single("c.csv"), new ColumnRoles { Label = "clicked", Numeric = ["price"] });
        var e = Assert.ThrowsExactly<DataFileException>(() => Open(spec).Table("table"));
        StringAssert.StartsWith(e.Message, "c.csv, line 4, field 'clicked': not an allowed value: '2' (allowed: 0, 1)");
    }

    [TestMethod]
    public void Missing_column_names_the_role_and_the_columns_there_are()
    {
        using var folder = new TempFolder();
        folder.File("r.csv", "customer,sku,stars\na,x,4\n");
        var e = Assert.ThrowsExactly<DataFileException>(() => Open(Spec(folder, DataFiles.Single("r.csv"), Ratings)).Interactions());
        Assert.AreEqual("r.csv, line 1: no column 'product' (named by the data set's \"columns\".\"item\"); the file's columns are: customer, sku, stars", e.Message);
    }

    [TestMethod]
    public void A_wrong_delimiter_is_suggested()
    {
        using var folder = new TempFolder();
        folder.File("r.csv", "customer;product;stars\na;x;4\n");
        var e = Assert.ThrowsExactly<DataFileException>(() => Open(Spec(folder, DataFiles.Single("r.csv"), Ratings)).Interactions());
        StringAssert.EndsWith(e.Message, "the file's columns are: customer;product;stars (the header is one column holding ';': is the delimiter \";\" rather than \",\"?)");
    }

    [TestMethod]
    public void Missing_empty_and_unterminated_files()
    {
        using var folder = new TempFolder();
        var missing = Assert.ThrowsExactly<DataFileException>(() => Open(Spec(folder, DataFiles.Single("nope.csv"), Ratings)).Interactions());
        Assert.AreEqual($"{Path.Combine(folder.Path, "nope.csv")}: the file does not exist", missing.Message);
        folder.File("empty.csv", "");
        Assert.AreEqual("empty.csv: the file is empty (0 bytes)",
            Assert.ThrowsExactly<DataFileException>(() => Open(Spec(folder, DataFiles.Single("empty.csv"), Ratings)).Interactions()).Message);
        folder.File("open.csv", "customer,product,stars\na,\"x,4\n");
        StringAssert.StartsWith(Assert.ThrowsExactly<DataFileException>(() => Open(Spec(folder, DataFiles.Single("open.csv"), Ratings)).Interactions()).Message,
            "open.csv, line 2: unterminated quote");
        folder.File("twice.csv", "customer,product,customer\na,x,4\n");
        Assert.AreEqual("twice.csv, line 1: the header names column 'customer' twice; each column needs its own name",
            Assert.ThrowsExactly<DataFileException>(() => Open(Spec(folder, DataFiles.Single("twice.csv"), Ratings)).Interactions()).Message);
    }

    [TestMethod]
    public void Bad_rows_skipped_and_duplicates_dropped_are_counted()
    {
        using var folder = new TempFolder();
        folder.File("r.csv", "customer,product,stars\na,x,4\nb,y\na,x,4\nc,z,nine\nc,y,1\n");
        var dataset = Open(Spec(folder, DataFiles.Single("r.csv"), Ratings), BadRowPolicy.Skip, DuplicatePolicy.Drop);
        var data = dataset.Interactions();
        Assert.AreEqual(2, data.Count, "rows 2 and 6 remain");
        Assert.AreEqual(1, dataset.Checks.Counts["skipped: ragged row"]);
        Assert.AreEqual(1, dataset.Checks.Counts["skipped: not a number"]);
        Assert.AreEqual(1, dataset.Checks.Counts["duplicate rows dropped"]);
        Assert.AreEqual(4, dataset.Checks.Examples.Single(x => x.Kind == "duplicate rows dropped").Line);
    }

    [TestMethod]
    public void Train_validation_and_test_files_share_id_maps()
    {
        using var folder = new TempFolder();
        folder.File("train.csv", "customer,product,stars\na,x,4\nb,y,2\n");
        folder.File("validation.csv", "customer,product,stars\nb,x,5\n");
        folder.File("test.csv", "customer,product,stars\na,y,3\nc,x,1\n");
        var split = Open(Spec(folder, DataFiles.Split("train.csv", "test.csv", "validation.csv"), Ratings)).PredefinedSplit(DataFiles.SplitName);
        CollectionAssert.AreEqual(new[] { 0, 1 }, split.Train);
        CollectionAssert.AreEqual(new[] { 2 }, split.Validation);
        CollectionAssert.AreEqual(new[] { 3, 4 }, split.Test);
        CollectionAssert.AreEqual(new[] { "a", "b", "c" }, Ids(split.All.Users));
        CollectionAssert.AreEqual(new[] { 0, 1, 1, 0, 2 }, split.All.User);
        CollectionAssert.AreEqual(new[] { 0, 1, 0, 1, 0 }, split.All.Item);
    }
}
