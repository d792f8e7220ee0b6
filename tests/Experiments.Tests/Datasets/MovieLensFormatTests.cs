using System.Text;
using Experiments.Datasets;

namespace Experiments.Tests.Datasets;

/// <summary>
/// The MovieLens 100K and 1M manifests on files written in those releases' exact formats (tab-separated u.data,
/// pipe-separated Latin-1 u.item, '::'-separated 1M files), since the releases themselves are pulled by users.
/// </summary>
[TestClass]
public sealed class MovieLensFormatTests
{
    private static void Write(TempFolder folder, string path, string text, Encoding? encoding = null)
    {
        var full = Path.Combine(folder.Path, path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllText(full, text, encoding ?? new UTF8Encoding(false));
    }

    [TestMethod]
    public void MovieLens_100k_data_items_and_predefined_folds()
    {
        using var folder = new TempFolder();
        Write(folder, "movielens-100k/u.data", "196\t242\t3\t881250949\n186\t302\t3\t891717742\n22\t377\t1\t878887116\n196\t377\t4\t881250950\n");
        Write(folder, "movielens-100k/u1.base", "196\t242\t3\t881250949\n186\t302\t3\t891717742\n22\t377\t1\t878887116\n");
        Write(folder, "movielens-100k/u1.test", "196\t377\t4\t881250950\n");
        // u.item is Latin-1: "Café" has é as the single byte 0xE9.
        Write(folder, "movielens-100k/u.item",
            "242|Kolya (1996)|24-Jan-1997||http://us.imdb.com/M/title-exact?Kolya%20(1996)|0|0|0|0|0|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n" +
            "377|Café au lait (1993)|01-Jan-1993||http://x|0|0|0|0|0|1|0|0|0|0|0|0|0|0|1|0|0|0|0\n", Encoding.Latin1);
        var dataset = new DatasetLoader().Open(new DatasetRequest("movielens-100k") { DataDirectory = folder.Path });
        var ratings = dataset.Interactions();
        Assert.AreEqual(4, ratings.Count);
        Assert.AreEqual(881250949L, ratings.Timestamp[0]);
        var split = dataset.PredefinedSplit("u1");
        Assert.AreEqual(3, split.Train.Length);
        Assert.AreEqual(1, split.Test.Length);
        Assert.AreEqual("377", split.All.Items[split.All.Item[split.Test[0]]]);
        Assert.AreEqual(split.All.Items.Ids.ToList().IndexOf("377"), split.All.Item[2], "train and test share item indices");
        var movies = dataset.Items()!;
        Assert.AreEqual("Café au lait (1993)", movies["title"].Strings![1]);
        Assert.AreEqual(1, movies["Romance"].Numbers![1]);
    }

    [TestMethod]
    public void MovieLens_1m_double_colon_files()
    {
        using var folder = new TempFolder();
        Write(folder, "movielens-1m/ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n2::1193::4::978298413\n");
        Write(folder, "movielens-1m/movies.dat", "1193::One Flew Over the Cuckoo's Nest (1975)::Drama\n661::James and the Giant Peach (1996)::Animation|Children's|Musical\n", Encoding.Latin1);
        var dataset = new DatasetLoader().Open(new DatasetRequest("movielens-1m") { DataDirectory = folder.Path });
        var ratings = dataset.Interactions();
        Assert.AreEqual(3, ratings.Count);
        Assert.AreEqual(2, ratings.Users.Count);
        CollectionAssert.AreEqual(new[] { 5f, 3f, 4f }, ratings.Rating);
        Assert.AreEqual("Animation|Children's|Musical", dataset.Items()!["Genres"].Strings![1]);
    }

    [TestMethod]
    public void MovieLens_1m_rating_out_of_its_1_to_5_scale()
    {
        using var folder = new TempFolder();
        Write(folder, "movielens-1m/ratings.dat", "1::1193::5::978300760\n1::661::0.5::978302109\n");
        var e = Assert.ThrowsExactly<Experiments.Core.DataFileException>(() =>
            new DatasetLoader().Open(new DatasetRequest("movielens-1m") { DataDirectory = folder.Path }).Interactions());
        StringAssert.StartsWith(e.Message, "ratings.dat, line 2, field 'Rating': out of range: 0.5 (allowed 1 to 5)");
    }
}
