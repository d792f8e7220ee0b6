using Experiments.Search;
using Experiments.Search.Data;
using Experiments.Search.Intent;
using Experiments.Search.Retrieval;

namespace Experiments.Tests.Search;

/// <summary>Dense retrieval and intent on tiny catalogues (CPU, seconds). Not in parallel with other classes: libtorch's random generator is one per process.</summary>
[TestClass]
[DoNotParallelize]
public sealed class RetrieverTests
{
    private static readonly string[] Kinds = ["running shoe", "frying pan", "yoga mat", "dog bed"];
    private static readonly string[] Paraphrases = ["sneakers", "skillet", "exercise mat", "puppy cushion"];
    private static readonly string[] Colours = ["red", "blue", "green", "black", "white"];

    /// <summary>20 products: every kind in every colour; titles never contain the paraphrases.</summary>
    private static SearchCollection Shop(bool withTestQueries)
    {
        var titles = Kinds.SelectMany(k => Colours.Select(c => $"{c} {k}")).ToArray();
        var catalogue = new ProductCatalogue(titles.Select((_, i) => $"p{i}").ToArray(), titles, null, Kinds.SelectMany(k => Colours.Select(_ => k)).ToArray(),
            titles.Select(_ => "").ToArray(), titles.Select(_ => 0.0).ToArray(), null, "test");
        var queries = new List<SearchQuery>();
        var grades = new List<Dictionary<int, double>>();
        for (var k = 0; k < Kinds.Length; k++)
            foreach (var (colour, c) in Colours.Select((c, i) => (c, i)))
            {
                // Training queries use the paraphrase with four of the colours; the fifth colour is kept for the test query.
                if (c == 4 && !withTestQueries) continue;
                queries.Add(new SearchQuery($"q{queries.Count}", $"{colour} {Paraphrases[k]}", Kinds[k]));
                grades.Add(Enumerable.Range(0, Colours.Length).ToDictionary(j => k * Colours.Length + j, j => j == c ? 2.0 : 1.0));
            }
        return new SearchCollection(catalogue, queries, new ListedJudgements(grades), "test shop");
    }

    private static readonly Dictionary<string, object> TinyEncoder = new()
    {
        ["hiddenSize"] = 32L, ["layers"] = 1L, ["attentionHeads"] = 2L, ["intermediateSize"] = 64L, ["vocabularySize"] = 300L,
        ["epochs"] = 40L, ["batchSize"] = 16L, ["learningRate"] = 3e-3, ["maxLength"] = 12L, ["device"] = TestDevice.Name,
    };

    [TestMethod]
    public void Hard_negatives_are_bm25_results_graded_below_the_positive()
    {
        var collection = Shop(withTestQueries: false);
        using var bm25 = new Bm25Index(collection.Catalogue!, new Bm25Options());
        var pairs = DenseTrainingPairs.Mine(collection, [0, 1], positivesPerQuery: 1, bm25, negativeDepth: 30, seed: 1);
        // Query 0 is "red sneakers": its positive is the red running shoe; BM25 matches "red" in every red product, all
        // graded 0 for it, so the hard negative is a red product of another kind.
        Assert.AreEqual(("red sneakers", "red running shoe running shoe"), pairs.Pairs[0]);
        StringAssert.StartsWith(pairs.HardNegatives![0], "red ");
        Assert.IsFalse(pairs.HardNegatives[0].Contains("running shoe"));
        Assert.HasCount(2, pairs.HardNegatives);
    }

    [TestMethod]
    public void The_bi_encoder_learns_paraphrases_that_bm25_cannot_match()
    {
        var collection = Shop(withTestQueries: true);
        var train = Enumerable.Range(0, collection.Queries.Count).Where(q => q % Colours.Length != 4).ToArray();
        var test = Enumerable.Range(0, collection.Queries.Count).Where(q => q % Colours.Length == 4).ToArray();
        using var bm25 = new Bm25Index(collection.Catalogue!, new Bm25Options());
        var pairs = DenseTrainingPairs.Mine(collection, train, 5, bm25, 30, 7);
        var dense = DenseRetriever.Fit(collection.Catalogue!, pairs, TinyEncoder, 7);
        Assert.IsTrue(dense.ProductVectors.All(v => Math.Abs(v.Sum(x => x * x) - 1) < 1e-4), "product vectors are normalised");
        var lists = dense.Search(dense.Embed(test.Select(q => collection.Queries[q].Text).ToList()), 5, test.Select(_ => -1).ToList());
        // "white sneakers": BM25 only matches "white", so its top five hold one running shoe; the encoder has learned
        // from the other colours that sneakers are running shoes.
        var kindHits = test.Select((q, i) => lists[i].Products.Count(p => collection.Judgements!.Grade(q, p) > 0)).ToArray();
        var lexicalHits = test.Select(q => bm25.Search(collection.Queries[q].Text, 5).Products.Count(p => collection.Judgements!.Grade(q, p) > 0)).ToArray();
        Assert.IsGreaterThan(lexicalHits.Sum() + 4, kindHits.Sum(), $"dense {string.Join(",", kindHits)} vs BM25 {string.Join(",", lexicalHits)}");
    }

    [TestMethod]
    public void Tfidf_intent_classifier_learns_the_category_of_query_words()
    {
        string[] texts = ["red sneakers", "blue sneakers", "sneakers for running", "green skillet", "black skillet", "skillet pan", "blue mat", "yoga mat", "red mat"];
        string[] labels = ["shoes", "shoes", "shoes", "kitchen", "kitchen", "kitchen", "fitness", "fitness", "fitness"];
        var classes = new[] { "fitness", "kitchen", "pets", "shoes" };
        var classifier = IntentClassifiers.FitTfidf(texts, labels, classes, 0.1, 1);
        var probabilities = classifier.Predict(["white sneakers", "cast iron skillet", "mat for pilates"]);
        Assert.HasCount(4, probabilities[0]); // one slot per class, "pets" included although no training query has it
        Assert.AreEqual(1.0, probabilities[0].Sum(), 1e-5);
        CollectionAssert.AreEqual(new[] { "shoes", "kitchen", "fitness" }, probabilities.Select(p => classes[Array.IndexOf(p, p.Max())]).ToArray(), string.Join(" / ", probabilities.Select(p => string.Join(",", p.Select(x => x.ToString("F2"))))));
    }

    [TestMethod]
    public void Dense_fits_under_different_seeds_in_one_split_each_get_their_own_retriever_and_equal_seeds_share_one()
    {
        var collection = Shop(withTestQueries: true);
        var train = Enumerable.Range(0, collection.Queries.Count).Where(q => q % Colours.Length != 4).ToArray();
        var test = Enumerable.Range(0, collection.Queries.Count).Where(q => q % Colours.Length == 4).ToArray();
        var parameters = new Dictionary<string, object>(TinyEncoder) { ["epochs"] = 2L };
        float[][] Scores(SearchComponents components, int seed, out double reused)
        {
            using var lease = components.Take();
            var model = (IRankingModel)SearchCatalog.Fit(SearchCatalog.Dense, parameters, new SearchFitContext(collection, train, lease, seed) { Language = "english" });
            reused = lease.ReusedSeconds;
            return model.Rank(test, 5).Select(r => r.Scores.ToArray()).ToArray();
        }
        // The reference: seed 2's retriever fitted in a split of its own.
        using (var alone = new SearchComponents())
        {
            var expected = Scores(alone, 2, out _);
            using var shared = new SearchComponents();
            var first = Scores(shared, 1, out _);
            // A sweep's trials share the split's parts but each has its own seed: seed 2 must not get seed 1's retriever.
            var second = Scores(shared, 2, out _);
            Assert.AreEqual(3, shared.Count, "the BM25 index of the hard negatives (unseeded, shared) and a retriever per seed");
            for (var i = 0; i < test.Length; i++) CollectionAssert.AreEqual(expected[i], second[i], $"test query {i}");
            Assert.IsFalse(first.Zip(second).All(p => p.First.SequenceEqual(p.Second)), "the seeds give different retrievers");
            var again = Scores(shared, 2, out var reusedAgain);
            Assert.AreEqual(3, shared.Count, "equal seed and settings: the retriever is shared, not built again");
            Assert.IsGreaterThan(0, reusedAgain);
            for (var i = 0; i < test.Length; i++) CollectionAssert.AreEqual(expected[i], again[i]);
        }
    }
}
