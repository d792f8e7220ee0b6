using System.Diagnostics;
using Experiments.Core;
using Experiments.Datasets;
using RankingMetrics = Experiments.Evaluation.Ranking.RankingMetrics;
using MulticlassMetrics = Experiments.Evaluation.Classification.MulticlassMetrics;
using Experiments.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using static TorchSharp.torch;

namespace Experiments.Runs;

public sealed record TextBenchmarkRow(string Embedder, double Recall10, double Ndcg10, double Mrr10, double Accuracy, double MacroF1, double EmbedSeconds, double TrainSeconds);

/// <summary>
/// `experiments bench text`: PriceRunner offers split by product cluster (seeded; 80% of clusters train). Retrieval:
/// each test offer of a cluster with other offers is a query over all offers; relevant = the other offers of its
/// cluster. Category classification: multinomial logistic regression (ML.NET L-BFGS) on each representation.
/// Representations: TF-IDF (FeaturizeText), averaged GloVe (ApplyWordEmbedding), and our encoder trained
/// contrastively on pairs of training clusters.
/// </summary>
public static class TextBenchmark
{
    public static List<TextBenchmarkRow> Run(int seed, int epochs, int maxQueries, IProgress<string>? progress = null, string device = "auto", string precision = "auto")
    {
        var table = new DatasetLoader().Open(new DatasetRequest("pricerunner-product-classification")).Table("offers");
        var titles = table["Product Title"].Strings!;
        var clusters = table["Cluster ID"].Strings!;
        var categories = table["Category Label"].Strings!;
        var random = new Random(seed);
        var clusterIds = clusters.Distinct().Order(StringComparer.Ordinal).ToArray();
        random.Shuffle(clusterIds);
        var trainClusters = clusterIds.Take((int)(clusterIds.Length * 0.8)).ToHashSet();
        var train = Enumerable.Range(0, titles.Length).Where(i => trainClusters.Contains(clusters[i])).ToArray();
        var test = Enumerable.Range(0, titles.Length).Where(i => !trainClusters.Contains(clusters[i])).ToArray();
        var members = Enumerable.Range(0, titles.Length).GroupBy(i => clusters[i]).ToDictionary(g => g.Key, g => g.ToArray());
        var queries = test.Where(i => members[clusters[i]].Length > 1).OrderBy(_ => random.Next()).Take(maxQueries).ToArray();
        var classNames = categories.Distinct().Order().ToList();
        var trainSample = train.OrderBy(_ => random.Next()).Take(8000).ToArray();
        var testSample = test.OrderBy(_ => random.Next()).Take(3000).ToArray();

        var rows = new List<TextBenchmarkRow>();
        void Record(string name, int[][] top, (double Accuracy, double MacroF1) classification, double embedSeconds, double trainSeconds)
        {
            double recall = 0, ndcg = 0, mrr = 0;
            for (var q = 0; q < queries.Length; q++)
            {
                var relevant = members[clusters[queries[q]]].Where(i => i != queries[q]).ToHashSet();
                recall += RankingMetrics.Recall(top[q], relevant, 10);
                ndcg += RankingMetrics.Ndcg(top[q], relevant, 10);
                mrr += RankingMetrics.ReciprocalRank(top[q], relevant, 10);
            }
            rows.Add(new TextBenchmarkRow(name, recall / queries.Length, ndcg / queries.Length, mrr / queries.Length, classification.Accuracy, classification.MacroF1, embedSeconds, trainSeconds));
            progress?.Report($"{name}: recall@10 {rows[^1].Recall10:F3}, NDCG@10 {rows[^1].Ndcg10:F3}, accuracy {classification.Accuracy:F3}");
        }
        int[] Labels(int[] rows) => rows.Select(i => classNames.IndexOf(categories[i])).ToArray();
        void Measure(ITextEmbedder embedder, double trainSeconds)
        {
            var clock = Stopwatch.StartNew();
            var vectors = embedder.Embed(titles);
            var embedSeconds = clock.Elapsed.TotalSeconds;
            var top = CosineSearch.TopK(queries.Select(q => vectors[q]).ToArray(), vectors, 10, (q, c) => c == queries[q]);
            Record(embedder.Name, top, Classify(trainSample.Select(i => vectors[i]).ToArray(), Labels(trainSample), testSample.Select(i => vectors[i]).ToArray(), Labels(testSample), classNames.Count),
                embedSeconds, trainSeconds);
        }

        // TF-IDF stays sparse: tens of thousands of dimensions would not fit as dense vectors for 35,000 titles.
        var tfidf = new TfidfEmbedder(train.Select(i => titles[i]).ToList());
        var tfidfClock = Stopwatch.StartNew();
        var sparse = tfidf.EmbedSparse(titles);
        var tfidfSeconds = tfidfClock.Elapsed.TotalSeconds;
        var search = new SparseCosineSearch(sparse, sparse.Max(v => v.Indices.Length == 0 ? 0 : v.Indices[^1]) + 1);
        Record(tfidf.Name, search.TopK(queries.Select(q => sparse[q]).ToArray(), 10, (q, c) => c == queries[q]),
            ClassifySparse(trainSample.Select(i => sparse[i]).ToArray(), Labels(trainSample), testSample.Select(i => sparse[i]).ToArray(), Labels(testSample), classNames.Count,
                sparse.Max(v => v.Indices.Length == 0 ? 0 : v.Indices[^1]) + 1), tfidfSeconds, 0);
        var glove = DatasetLoader.Locate(new DatasetLoader().Registry.Get("glove-6b-100d-top40k"), DataDirectory.Resolve());
        if (glove is not null) Measure(new GloveEmbedder(Path.Combine(glove, "glove.6B.100d.top40k.txt"), 100), 0);
        else progress?.Report("GloVe vectors not found: skipped");

        var clock = Stopwatch.StartNew();
        var vocabulary = TextTokenizer.LearnVocabulary(train.Select(i => titles[i]), 8000);
        TorchNative.EnsureLoaded();
        manual_seed(seed);
        var encoder = new BertEncoder(new EncoderOptions { VocabularySize = vocabulary.Count, HiddenSize = 128, Layers = 2, AttentionHeads = 4, IntermediateSize = 256, MaxPositions = 32 });
        var pairs = train.GroupBy(i => clusters[i]).Where(g => g.Count() > 1).SelectMany(g => g.Zip(g.Skip(1), (a, b) => (titles[a], titles[b]))).ToList();
        var tokenizer = new TextTokenizer(vocabulary);
        var history = new EncoderTrainer(encoder, tokenizer, new EncoderTrainingOptions { Epochs = epochs, BatchSize = 64, LearningRate = 1e-3, Seed = seed, Device = device, Precision = precision, Notice = m => progress?.Report(m) })
            .TrainContrastive(pairs, progress: new Progress<EpochReport>(r => progress?.Report($"encoder epoch {r.Epoch}: loss {r.TrainLoss:F3}, {r.ExamplesPerSecond:F0} pairs/s")));
        Measure(new EncoderEmbedder(encoder, tokenizer, device: device, precision: precision), clock.Elapsed.TotalSeconds);
        return rows;
    }

    private static (double Accuracy, double MacroF1) ClassifySparse(SparseVector[] trainX, int[] trainY, SparseVector[] testX, int[] testY, int classes, int dimension)
    {
        VBuffer<float> Buffer(SparseVector v) => new(dimension, v.Indices.Length, v.Values, v.Indices);
        var ml = new MLContext(seed: 1);
        var schema = SchemaDefinition.Create(typeof(SparseRow));
        schema[nameof(SparseRow.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, dimension);
        return Classify(ml, ml.Data.LoadFromEnumerable(trainX.Select((x, i) => new SparseRow { Features = Buffer(x), Label = (uint)trainY[i] + 1 }), schema),
            ml.Data.LoadFromEnumerable(testX.Select((x, i) => new SparseRow { Features = Buffer(x), Label = (uint)testY[i] + 1 }), schema), classes);
    }

    private static (double Accuracy, double MacroF1) Classify(float[][] trainX, int[] trainY, float[][] testX, int[] testY, int classes)
    {
        var ml = new MLContext(seed: 1);
        var schema = SchemaDefinition.Create(typeof(Row));
        schema[nameof(Row.Features)].ColumnType = new VectorDataViewType(NumberDataViewType.Single, trainX[0].Length);
        return Classify(ml, ml.Data.LoadFromEnumerable(trainX.Select((x, i) => new Row { Features = x, Label = (uint)trainY[i] + 1 }), schema),
            ml.Data.LoadFromEnumerable(testX.Select((x, i) => new Row { Features = x, Label = (uint)testY[i] + 1 }), schema), classes);
    }

    private static (double Accuracy, double MacroF1) Classify(MLContext ml, IDataView trainView, IDataView testView, int classes)
    {
        // Label as a key with `classes` values so every category has an output, even one missing from the sample.
        var model = ml.Transforms.Conversion.MapValueToKey("Label", "Label", keyOrdinality: Microsoft.ML.Transforms.ValueToKeyMappingEstimator.KeyOrdinality.ByValue)
            .Append(ml.MulticlassClassification.Trainers.LbfgsMaximumEntropy()).Fit(trainView);
        var predicted = model.Transform(testView).GetColumn<uint>("PredictedLabel").Select(k => (int)k - 1).ToArray();
        var labels = model.Transform(testView).GetColumn<uint>("Label").Select(k => (int)k - 1).ToArray();
        var metrics = new MulticlassMetrics(labels, predicted, classes);
        return (metrics.Accuracy, metrics.Macro().F1);
    }

    private sealed class SparseRow
    {
        public VBuffer<float> Features { get; set; }
        public uint Label { get; set; }
    }

    private sealed class Row
    {
        public float[] Features { get; set; } = [];
        public uint Label { get; set; }
    }
}
