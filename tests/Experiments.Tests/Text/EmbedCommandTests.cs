using System.Globalization;
using Experiments.Text;

namespace Experiments.Tests.Text;

/// <summary>`experiments embed`, run as a user runs it, checked with NumPy and BERT in PyTorch (Reference/bert_forward.py).</summary>
[TestClass]
public sealed class EmbedCommandTests
{
    private static readonly string[] Titles =
    [
        "Samsung 55\" QLED 4K Smart TV",
        "LG 65'' OLED evo, 2023",
        "Crème brûlée torch — £24.99",
        "Sony WH-1000XM4® wireless headphones",
        "华为 Mate 60 Pro 12GB+512GB",
        "Nike Air Max 90 👟 size 9½",
        "",
    ];

    /// <summary>A tiny checkpoint whose vocabulary covers most of the titles, made by the test.</summary>
    private static string Checkpoint(TempFolder folder, bool pooler = true)
    {
        var path = Path.Combine(folder.Path, "checkpoint");
        var vocabulary = TextTokenizer.LearnVocabulary(Titles.Take(5), 200);
        EncoderCheckpoint.Save(new BertEncoder(new EncoderOptions { VocabularySize = vocabulary.Count, HiddenSize = 24, Layers = 2, AttentionHeads = 3, IntermediateSize = 48, MaxPositions = 32, InitializerRange = 0.2 }, seed: 8),
            new TextTokenizer(vocabulary), path);
        if (!pooler)
        {
            var weights = Path.Combine(path, "model.safetensors");
            var kept = SafeTensors.Read(weights).Where(t => !t.Key.StartsWith("pooler.", StringComparison.Ordinal)).Select(t => (t.Key, t.Value)).ToList();
            SafeTensors.Write(weights, kept);
        }
        return path;
    }

    /// <summary>A CSV with the titles in a quoted column beside others, as exported from a catalogue.</summary>
    private static string Csv(TempFolder folder) =>
        folder.File("offers.csv", "id,title,price\n" + string.Join("\n", Titles.Select((t, i) => $"{i},\"{t.Replace("\"", "\"\"")}\",{i * 10}")) + "\n");

    [TestMethod]
    public void Embed_writes_a_numpy_file_with_the_vectors_of_BERT_in_PyTorch()
    {
        using var folder = new TempFolder();
        var checkpoint = Checkpoint(folder);
        var (code, output, error) = CliProcess.Run(folder.Path, "embed", "--checkpoint", checkpoint, "--input", Csv(folder), "--column", "title", "--output", "out/vectors.npy", "--device", "cpu");
        Assert.AreEqual(0, code, error);
        StringAssert.Contains(error, $"embedded {Titles.Length} of {Titles.Length} texts", "progress on standard error");
        StringAssert.Contains(output, $"Wrote {Titles.Length} vectors of 24 dimensions");

        var npy = Path.Combine(folder.Path, "out", "vectors.npy");
        var reference = ReferencePython.Run("bert_forward.py", new { checkpoint, texts = Titles, max_length = 32, poolings = new[] { "mean" }, normalize = true, npy }, "torch", "numpy");
        var loaded = reference.GetProperty("npy");
        Assert.AreEqual("float32", loaded.GetProperty("dtype").GetString(), "NumPy reads a float32 array");
        CollectionAssert.AreEqual(new[] { Titles.Length, 24 }, loaded.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray());
        var expected = reference.GetProperty("pooled").GetProperty("mean");
        for (var row = 0; row < Titles.Length; row++)
        {
            var ours = loaded.GetProperty("values")[row].EnumerateArray().Select(v => v.GetDouble()).ToArray();
            var theirs = expected[row].EnumerateArray().Select(v => v.GetDouble()).ToArray();
            for (var k = 0; k < ours.Length; k++) Assert.AreEqual(theirs[k], ours[k], 1e-5, $"text {row} ({Titles[row]}) component {k}");
        }
        Assert.IsFalse(File.Exists(npy + ".partial"));
    }

    [TestMethod]
    public void Embed_writes_tsv_with_any_pooling_unnormalised_and_counts_truncated_texts()
    {
        using var folder = new TempFolder();
        var checkpoint = Checkpoint(folder);
        var texts = folder.File("titles.txt", string.Join("\n", Titles) + "\n");
        var (code, output, error) = CliProcess.Run(folder.Path, "embed", "--checkpoint", checkpoint, "--input", texts, "--output", "vectors.tsv",
            "--pooling", "pooler", "--normalize", "false", "--max-length", "6", "--batch-size", "2", "--device", "cpu");
        Assert.AreEqual(0, code, error);
        StringAssert.Contains(output, "text(s) were longer than 6 tokens and were truncated");
        var rows = File.ReadAllLines(Path.Combine(folder.Path, "vectors.tsv")).Select(l => l.Split('\t').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToList();
        Assert.HasCount(Titles.Length, rows, "every line of the .txt is a row, the empty one included");

        // The reference truncates to the same 6 tokens; the pooler's tanh keeps every component inside (-1, 1).
        var reference = ReferencePython.Run("bert_forward.py", new { checkpoint, texts = Titles, max_length = 6, poolings = new[] { "pooler" }, normalize = false }, "torch", "numpy");
        var expected = reference.GetProperty("pooled").GetProperty("pooler");
        for (var row = 0; row < Titles.Length; row++)
            for (var k = 0; k < 24; k++) Assert.AreEqual(expected[row][k].GetDouble(), rows[row][k], 1e-5, $"text {row} component {k}");
        Assert.IsTrue(rows.Any(r => Math.Abs(r.Sum(v => v * v) - 1) > 1e-2), "not normalised");
    }

    [TestMethod]
    public void Embed_errors_name_what_is_wrong_and_what_is_allowed()
    {
        using var folder = new TempFolder();
        var checkpoint = Checkpoint(folder, pooler: false);
        var csv = Csv(folder);
        void Expect(string message, params string[] args)
        {
            var (code, _, error) = CliProcess.Run(folder.Path, ["embed", .. args]);
            Assert.AreEqual(2, code, error);
            StringAssert.Contains(error, message);
            Assert.DoesNotContain("   at ", error, "no stack trace");
        }
        Expect("--column 'titel' is not a column of", "--checkpoint", checkpoint, "--input", csv, "--column", "titel", "--output", "v.npy");
        Expect("its columns: id, title, price", "--checkpoint", checkpoint, "--input", csv, "--column", "titel", "--output", "v.npy");
        Expect("has 3 columns (id, title, price); choose the text column with --column", "--checkpoint", checkpoint, "--input", csv, "--output", "v.npy");
        Expect("unknown vector file type '.json'; allowed: .npy, .tsv", "--checkpoint", checkpoint, "--input", csv, "--column", "title", "--output", "v.json");
        Expect("unknown text file type '.xlsx'; allowed: .txt, .csv, .tsv", "--checkpoint", checkpoint, "--input", "offers.xlsx", "--output", "v.npy");
        Expect("no such checkpoint folder", "--checkpoint", Path.Combine(folder.Path, "missing"), "--input", csv, "--column", "title", "--output", "v.npy");
        Expect("has no config.json", "--checkpoint", folder.Path, "--input", csv, "--column", "title", "--output", "v.npy");
        Expect("has no pooler weights (pooler.dense)", "--checkpoint", checkpoint, "--input", csv, "--column", "title", "--output", "v.npy", "--pooling", "pooler");
        Expect("--pooling 'sum' is not one of: mean, cls, max, pooler", "--checkpoint", checkpoint, "--input", csv, "--column", "title", "--output", "v.npy", "--pooling", "sum");
        Expect("--max-length 64 exceeds the checkpoint's 32 positions", "--checkpoint", checkpoint, "--input", csv, "--column", "title", "--output", "v.npy", "--max-length", "64");
        File.WriteAllBytes(Path.Combine(folder.Path, "latin1.txt"), [0x63, 0x61, 0x66, 0xE9, 0x0A]);
        Expect("is not valid UTF-8", "--checkpoint", checkpoint, "--input", "latin1.txt", "--output", "v.npy");
        folder.File("ragged.csv", "id,title\n1,shoe\n2,boot,extra\n");
        Expect("ragged.csv, line 3: 3 fields where the header has 2 (id, title)", "--checkpoint", checkpoint, "--input", "ragged.csv", "--column", "title", "--output", "v.npy");
        Assert.IsFalse(File.Exists(Path.Combine(folder.Path, "v.npy")), "no output from a failed run");
    }
}
