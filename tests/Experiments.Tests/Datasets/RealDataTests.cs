using Experiments.Core.Definitions;
using Experiments.Datasets;
using Experiments.Datasets.Manifests;

namespace Experiments.Tests.Datasets;

/// <summary>The loaders on the real data sets, checked against the counts their SOURCE.txt files state.</summary>
[TestClass]
public sealed class RealDataTests
{
    [TestMethod]
    public void MovieLens_latest_small_ratings_movies_and_tags()
    {
        var dataset = RealData.Open("movielens-latest-small");
        var ratings = dataset.Interactions();
        Assert.AreEqual(100_836, ratings.Count);
        Assert.AreEqual(610, ratings.Users.Count);
        Assert.AreEqual(9_724, ratings.Items.Count);
        Assert.AreEqual(0.5f, ratings.Rating.Min());
        Assert.AreEqual(5f, ratings.Rating.Max());
        var movies = dataset.Items()!;
        Assert.AreEqual(9_742, movies.RowCount);
        Assert.AreEqual("Toy Story (1995)", movies["title"].Strings![0]);
        Assert.AreEqual(3_683, dataset.Table("tags").RowCount);
        Assert.AreEqual(0, dataset.Checks.Counts.Count(c => c.Key == "warning"), "files match the official checksums");
        Assert.AreEqual(64, dataset.Fingerprint.Length);
    }

    [TestMethod]
    public void Fixed_80_20_split_of_MovieLens()
    {
        var split = RealData.Open("movielens-latest-small-80-20").PredefinedSplit("default");
        Assert.AreEqual(80_669, split.Train.Length);
        Assert.AreEqual(20_167, split.Test.Length);
        var trainItems = split.Train.Select(r => split.All.Item[r]).ToHashSet();
        // SOURCE.txt: 798 test rows have a movie that never appears in train.
        Assert.AreEqual(798, split.Test.Count(r => !trainItems.Contains(split.All.Item[r])));
    }

    [TestMethod]
    public void Amazon_beauty_sequences()
    {
        var data = RealData.Open("amazon-beauty-5core").Interactions();
        Assert.AreEqual(198_502, data.Count);
        Assert.AreEqual(22_363, data.Users.Count);
        Assert.AreEqual(12_101, data.Items.Count);
        Assert.IsTrue(data.HasTimestamps);
        // The first user's items are 1 2 3 4 5 at positions 1..5.
        CollectionAssert.AreEqual(new[] { "1", "2", "3", "4", "5" }, Enumerable.Range(0, 5).Select(r => data.Items[data.Item[r]]).ToArray());
        CollectionAssert.AreEqual(new long[] { 1, 2, 3, 4, 5 }, data.Timestamp[..5]);
    }

    [TestMethod]
    public void Criteo_train_sample()
    {
        var table = RealData.Open("criteo-samples").Table("train");
        Assert.AreEqual(1_999, table.RowCount);
        Assert.AreEqual(418, table.WithRole("label")!.Strings!.Count(v => v == "1"));
        Assert.AreEqual(41, table.Columns.Count);
        Assert.AreEqual(1382, table["I5"].Numbers![0]);
        Assert.IsTrue(double.IsNaN(table["I12"].Numbers![0]), "an empty integer is a missing value");
    }

    [TestMethod]
    public void Avazu_duplicates_are_detected_and_dropped()
    {
        var kept = RealData.Open("avazu-samples");
        Assert.AreEqual(2_994, kept.Table("train").RowCount);
        Assert.AreEqual(2_994 - 499, kept.Checks.Counts["duplicate rows kept"]);
        var deduplicated = RealData.Open("avazu-samples", duplicates: DuplicatePolicy.Drop);
        Assert.AreEqual(499, deduplicated.Table("train").RowCount);
    }

    [TestMethod]
    public void PriceRunner_bare_quotes_parse_leniently()
    {
        var table = RealData.Open("pricerunner-product-classification").Table("offers");
        Assert.AreEqual(35_311, table.RowCount);
        Assert.AreEqual(10, table.WithRole("label")!.Strings!.Distinct().Count());
        Assert.AreEqual(13_233, table.WithRole("group")!.Strings!.Distinct().Count());
        // Line 7341 of the file (header is line 1): the cluster label holds a bare quote.
        var row = Array.IndexOf(table.SourceLines, 7341L);
        Assert.AreEqual("Loewe Connect UHD 55\" DR+", table["Cluster Label"].Strings![row]);
        Assert.AreEqual("TVs", table["Category Label"].Strings![row]);
        Assert.AreEqual(3_564, table["Category Label"].Strings!.Count(c => c == "TVs"));
    }

    [TestMethod]
    public void WANDS_queries()
    {
        var dataset = RealData.Open("wands-queries");
        var table = dataset.Table("queries");
        Assert.AreEqual(480, table.RowCount);
        // SOURCE.txt counts 189 distinct values; one of them is the empty class of 6 unlabelled queries.
        Assert.AreEqual(188, table["query_class"].Strings!.Where(s => s.Length > 0).Distinct().Count());
        Assert.AreEqual(6, dataset.Checks.Counts["missing values: query_class"]);
        Assert.AreEqual("salon chair", table["query"].Strings![0]);
    }

    [TestMethod]
    public void YooChoose_sessions_with_predefined_split()
    {
        var dataset = RealData.Open("yoochoose-clicks-100k");
        var split = dataset.PredefinedSplit("default");
        Assert.AreEqual(70_278, split.Train.Length);
        Assert.AreEqual(13_568, split.Test.Length);
        var train = dataset.Interactions("train-full");
        Assert.AreEqual(17_794, train.User.Distinct().Count());
        Assert.AreEqual(2_933, train.Item.Distinct().Count());
        Assert.AreEqual(1396437466L, train.Timestamp[0]); // first row of train_full: session 3, 2014-04-02
    }

    [TestMethod]
    public void GloVe_vectors()
    {
        var vectors = RealData.Open("glove-6b-100d-top40k").WordVectors();
        Assert.AreEqual(100, vectors.Dimension);
        Assert.AreEqual(40_000, vectors.Vectors.Count);
        var the = vectors.Vectors["the"];
        Assert.AreEqual(-0.038194f, the[0]);
        Assert.AreEqual(0.087459f, the[9]);
    }

    [TestMethod]
    public void Every_manifest_with_local_files_matches_its_recorded_checksums()
    {
        var locations = DataDirectory.Resolve();
        foreach (var manifest in DatasetRegistry.Default.All.Where(m => !m.Synthetic && m.Files.All(f => f.Sha256 is not null)))
        {
            var folder = DatasetLoader.Locate(manifest, locations);
            if (folder is null) { RealData.Open(manifest.Name); continue; }
            foreach (var file in manifest.Files)
            {
                using var stream = File.OpenRead(Path.Combine(folder, file.Path));
                Assert.AreEqual(file.Sha256, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream)), $"{manifest.Name}/{file.Path}");
                Assert.AreEqual(file.Bytes, new FileInfo(Path.Combine(folder, file.Path)).Length);
            }
        }
    }
}
