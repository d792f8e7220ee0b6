using System.Text.Json;
using Experiments.Core;
using Experiments.Core.Definitions;
using Experiments.Ctr;
using Experiments.Runs;
using Experiments.Store;
using Experiments.Text;
using static TorchSharp.torch;

namespace Experiments.Tests.Text;

/// <summary>Encoders in experiment definitions: validation, training inside a click-through run, and click models on embeddings.</summary>
[TestClass]
[DoNotParallelize] // libtorch's random generator is global: see TestDevice.
public sealed class EncoderDefinitionTests
{
    private static string Json(string encoders, string task = "classification", string textEncoder = "qt") => $$"""
        { "name": "x", "task": "{{task}}", "dataset": { "name": "demo-shop", "table": "clicks" },
          "encoders": [ {{encoders}} ],
          "models": [ { "type": "logistic-regression", "parameters": { "textEncoder": "{{textEncoder}}" } } ], "metrics": ["auc"] }
        """;

    private static IReadOnlyList<string> Errors(string json) =>
        Assert.ThrowsExactly<DefinitionException>(() => Platform.Reader.Read(json, "x.json")).Errors.Select(e => $"{e.Path}: {e.Message}").ToList();

    [TestMethod]
    public void Encoder_definitions_are_checked_with_clear_messages()
    {
        void Expect(string json, string path, string message)
        {
            var errors = Errors(json);
            Assert.IsTrue(errors.Any(e => e.StartsWith(path + ":", StringComparison.Ordinal) && e.Contains(message, StringComparison.Ordinal)), $"expected {path}: …{message}… in:\n{string.Join("\n", errors)}");
        }
        Expect(Json("""{ "name": "qt", "columns": ["query"] }"""), "$.encoders[0].columns", "objective 'contrastive' needs \"columns\" with two text columns");
        Expect(Json("""{ "name": "qt", "objective": "classification", "columns": ["title"] }"""), "$.encoders[0]", "needs \"labelColumn\"");
        Expect(Json("""{ "name": "qt", "columns": ["query", "title"], "labelColumn": "category" }"""), "$.encoders[0].labelColumn", "belongs to objective 'classification'");
        Expect(Json("""{ "name": "qt", "objective": "none" }"""), "$.encoders[0]", "objective 'none' uses a checkpoint as it is");
        Expect(Json("""{ "name": "qt", "columns": ["query", "title"] }, { "name": "qt", "columns": ["query", "title"] }"""), "$.encoders[1].name", "two encoders are named 'qt'");
        Expect(Json("""{ "name": "qt", "columns": ["query", "title"] }""", textEncoder: "qtt"), "$.models[0].parameters.textEncoder", "unknown encoder 'qtt'; did you mean 'qt'?");
        Expect(Json("""{ "name": "qt", "columns": ["query", "title"], "parameters": { "hiddenSize": 64, "layer": 2 } }"""), "$.encoders[0].parameters.layer", "unknown property 'layer'; did you mean 'layers'?");
        Expect(Json("""{ "name": "qt", "columns": ["query", "title"], "parameters": { "precision": "half" } }"""), "$.encoders[0].parameters.precision", "allowed: auto, float32, bfloat16, float16");
        Expect(Json("""{ "name": "qt", "objective": "masked", "columns": ["query", "title"] }"""), "$.encoders[0].objective", "allowed: contrastive, classification, none");
        Expect(Json("""{ "name": "qt", "columns": ["query", "title"] }""", task: "ranking").Replace("\"table\": \"clicks\"", "\"table\": \"events\""), "$.encoders[0]", "they belong to task 'classification'");
    }

    [TestMethod]
    public void Encoders_round_trip_through_the_builder_and_the_canonical_form()
    {
        var built = ExperimentBuilder.Create("x").ForTask("classification").OnDataset("demo-shop", d => d with { Table = "clicks" })
            .AddEncoder("qt", "contrastive", ["query", "title"], parameters: p => { p["layers"] = 1L; p["precision"] = "float32"; })
            .AddModel("logistic-regression", p => p["textEncoder"] = "qt").WithMetrics("auc").Build(Platform.Vocabulary);
        var reread = Platform.Reader.Read(DefinitionWriter.ToJson(built), "canonical");
        Assert.AreEqual(DefinitionWriter.Hash(built), DefinitionWriter.Hash(reread));
        Assert.AreEqual("qt", reread.Encoders.Single().Name);
        CollectionAssert.AreEqual(new[] { "query", "title" }, reread.Encoders[0].Columns.ToArray());
        Assert.AreEqual(1L, reread.Encoders[0].Parameters["layers"]);
        var plain = ExperimentBuilder.Create("x").ForTask("classification").OnDataset("demo-shop", d => d with { Table = "clicks" }).AddModel("logistic-regression").WithMetrics("auc").Build(Platform.Vocabulary);
        Assert.DoesNotContain("encoders", DefinitionWriter.ToJson(plain), "definitions without encoders keep their earlier canonical form (and hash)");
    }

    private static Experiments.Datasets.Dataset DemoShop(int users, int items) =>
        new Experiments.Datasets.DatasetLoader().Open(new Experiments.Datasets.DatasetRequest("demo-shop") { Options = new Dictionary<string, double> { ["users"] = users, ["items"] = items } });

    private static ExperimentDefinition SmallRun(Func<ExperimentBuilder, ExperimentBuilder> encoders, string model = "qt") =>
        encoders(ExperimentBuilder.Create("encoder-run").ForTask("classification")
                .OnDataset("demo-shop", d => d with { Table = "clicks", Options = new Dictionary<string, double> { ["users"] = 200, ["items"] = 150 } })
                .Split("stratified", 0.2, validationFraction: 0.1))
            .AddModel("logistic-regression", name: "lr-tfidf")
            .AddModel("logistic-regression", p => p["textEncoder"] = model, name: "lr-encoder")
            .WithMetrics("auc").WithEvaluation(e => e with { BootstrapSamples = 20 }).Build(Platform.Vocabulary);

    private static readonly Action<Dictionary<string, object>> Tiny = p =>
    {
        p["hiddenSize"] = 32L; p["layers"] = 1L; p["attentionHeads"] = 2L; p["intermediateSize"] = 64L; p["vocabularySize"] = 600L;
        p["epochs"] = 2L; p["maxLength"] = 16L; p["device"] = TestDevice.Name;
    };

    [TestMethod]
    public void A_definition_trains_an_encoder_saves_it_and_feeds_its_vectors_to_a_click_model()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var definition = SmallRun(b => b.AddEncoder("qt", "contrastive", ["query", "title"], parameters: Tiny));
        var outcome = new ExperimentRunner(store).Run(definition, new RunOptions { ReportDirectory = folder.Path });
        Assert.AreEqual(RunStatus.Finished, outcome.Status, outcome.Error);
        var details = store.GetRun(outcome.RunId);

        var training = details.Artifacts.Single(a => a.Kind == "encoder-training");
        var epochs = JsonDocument.Parse(File.ReadAllText(training.Path)).RootElement.GetProperty("epochs").EnumerateArray().ToList();
        Assert.HasCount(2, epochs);
        Assert.IsLessThan(epochs[0].GetProperty("TrainLoss").GetDouble(), epochs[1].GetProperty("TrainLoss").GetDouble(), "contrastive training on the clicked (query, title) pairs lowers the loss");
        Assert.IsTrue(epochs[1].GetProperty("ValidationScore").GetDouble() > 0, "recall@1 on the validation split's pairs");
        var loss = details.Curves.Single(c => c.Kind == CurveKinds.Training && c.Name == "encoder qt: training loss");
        CollectionAssert.AreEqual(epochs.Select(e => e.GetProperty("TrainLoss").GetDouble()).ToList(), loss.Y.ToList(), "the report's training curve is the encoder's history");
        CollectionAssert.AreEqual(new[] { 1.0, 2.0 }, loss.X.ToList());

        // The saved checkpoint reloads and embeds in the Hugging Face layout.
        var checkpoint = details.Artifacts.Single(a => a.Kind == "encoder-checkpoint");
        Assert.AreEqual(Experiments.Reports.ReportWriter.Sha256(checkpoint.Path), checkpoint.Sha256);
        var (encoder, tokenizer, _, _) = EncoderCheckpoint.Load(Path.GetDirectoryName(checkpoint.Path)!);
        Assert.AreEqual(32, encoder.Options.HiddenSize);
        var vectors = new EncoderEmbedder(encoder, tokenizer, 16, TestDevice.Name).Embed(["red running shoe", "red running shoe", "oak table"]);
        CollectionAssert.AreEqual(vectors[0], vectors[1]);
        Assert.AreEqual(1.0, Math.Sqrt(vectors[2].Sum(v => v * v)), 1e-4, "unit length");

        // Both models ran; the encoder model's features are 2 text columns × 32 dimensions plus the rest, narrow enough for
        // ML.NET's per-slot importance, which the TF-IDF model's thousands of n-gram slots are not.
        Assert.IsTrue(details.Trials.All(t => t.Status == "finished" && t.Metrics.Single(m => m.Name == "auc").Value > 0.55), string.Join("; ", details.Trials.Select(t => $"{t.ModelName} {t.Status} {t.Error}")));
        JsonElement Details(string model) => JsonDocument.Parse(File.ReadAllText(details.Artifacts.Single(a => a.Kind == "classification-details" && a.Path.Contains(model)).Path)).RootElement;
        Assert.AreEqual(JsonValueKind.Object, Details("lr-encoder").GetProperty("mlnetPermutationImportance").ValueKind);
        Assert.AreEqual(JsonValueKind.Null, Details("lr-tfidf").GetProperty("mlnetPermutationImportance").ValueKind);
        var encoderModel = details.Trials.Single(t => t.ModelName == "lr-encoder").Id;
        CollectionAssert.IsSubsetOf(new[] { "query", "title" }, details.Curves.Single(c => c.TrialId == encoderModel && c.Kind == CurveKinds.FeatureImportance).Labels!.ToList());
    }

    [TestMethod]
    public void An_early_stopping_encoder_watches_training_rows_held_out_of_its_training_never_the_validation_rows()
    {
        using var folder = new TempFolder();
        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        Dictionary<string, object> Watched(ExperimentDefinition definition)
        {
            var outcome = new ExperimentRunner(store).Run(definition, new RunOptions { ReportDirectory = folder.Path });
            Assert.AreEqual(RunStatus.Finished, outcome.Status, outcome.Error);
            var training = JsonDocument.Parse(File.ReadAllText(store.GetRun(outcome.RunId).Artifacts.Single(a => a.Kind == "encoder-training").Path)).RootElement;
            return new() { ["train"] = training.GetProperty("trainingRows").GetInt32(), ["watched"] = training.GetProperty("validationRows").GetInt32(), ["from"] = training.GetProperty("validationFrom").GetString()! };
        }
        // The run's split, cut here: stratified by click, 20% test, 10% validation; an early-stopping encoder then holds out
        // a stratified 10% (the split's validation fraction) of the training rows, seeded like the split.
        var stopping = SmallRun(b => b.AddEncoder("qt", "contrastive", ["query", "title"], parameters: p => { Tiny(p); p["earlyStoppingRounds"] = 1L; }));
        var log = ClickLog.From(DemoShop(200, 150).Table("clicks"));
        var cut = Experiments.Datasets.Splitting.RowSplitter.Stratified(log.Labels.Select(l => l ? 1 : 0).ToArray(), 0.2, 0.1, stopping.Seed);
        var trainLabels = cut.Train.Select(r => log.Labels[r] ? 1 : 0).ToArray();
        var heldOut = Experiments.Datasets.Splitting.RowSplitter.Stratified(trainLabels, 0, 0.1, stopping.Seed).Validation.Length;
        Assert.AreNotEqual(cut.Validation.Length, heldOut, "the crafting: the two parts differ in size, so the record tells them apart");

        var early = Watched(stopping);
        Assert.AreEqual(cut.Train.Length - heldOut, early["train"]);
        Assert.AreEqual(heldOut, early["watched"]);
        Assert.AreEqual("training rows held out of the encoder's training", early["from"]);
        // Without early stopping nothing is chosen on the watched rows: the encoder trains on every training row and
        // reports its score on the validation rows.
        var plain = Watched(SmallRun(b => b.AddEncoder("qt", "contrastive", ["query", "title"], parameters: Tiny)));
        Assert.AreEqual((cut.Train.Length, cut.Validation.Length, "validation rows"), ((int)plain["train"], (int)plain["watched"], (string)plain["from"]));
    }

    [TestMethod]
    public void A_checkpoint_is_used_as_it_is_or_fine_tuned_and_bad_columns_fail_clearly()
    {
        using var folder = new TempFolder();
        var start = Path.Combine(folder.Path, "start");
        var corpus = DemoShop(50, 80).Table("items")["title"].Strings!;
        var vocabulary = TextTokenizer.LearnVocabulary(corpus, 400);
        EncoderCheckpoint.Save(new BertEncoder(new EncoderOptions { VocabularySize = vocabulary.Count, HiddenSize = 16, Layers = 1, AttentionHeads = 2, IntermediateSize = 32 }, seed: 9), new TextTokenizer(vocabulary), start);

        using var store = SqliteRunStore.Open(Path.Combine(folder.Path, "runs.db"));
        var runner = new ExperimentRunner(store);
        var asIs = runner.Run(SmallRun(b => b.AddEncoder("qt", "none", [], checkpoint: start, parameters: p => p["device"] = TestDevice.Name)), new RunOptions { ReportDirectory = folder.Path });
        Assert.AreEqual(RunStatus.Finished, asIs.Status, asIs.Error);
        var saved = store.GetRun(asIs.RunId).Artifacts.Single(a => a.Kind == "encoder-checkpoint").Path;
        CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(start, "model.safetensors")), File.ReadAllBytes(saved), "objective 'none' keeps the checkpoint's weights");

        var tuned = runner.Run(SmallRun(b => b.AddEncoder("qt", "classification", ["title"], labelColumn: "category", checkpoint: start,
            parameters: p => { p["epochs"] = 1L; p["device"] = TestDevice.Name; })), new RunOptions { ReportDirectory = folder.Path });
        Assert.AreEqual(RunStatus.Finished, tuned.Status, tuned.Error);
        CollectionAssert.AreNotEqual(File.ReadAllBytes(Path.Combine(start, "model.safetensors")), File.ReadAllBytes(store.GetRun(tuned.RunId).Artifacts.Single(a => a.Kind == "encoder-checkpoint").Path), "fine-tuning changed the weights");

        var wrong = Assert.ThrowsExactly<ExperimentsException>(() => runner.Run(SmallRun(b => b.AddEncoder("qt", "contrastive", ["query", "titel"], parameters: Tiny)), new RunOptions { ReportDirectory = folder.Path }));
        Assert.AreEqual("Encoder 'qt': 'titel' is not a text column of this table; its text columns: query, title.", wrong.Message);
        var label = Assert.ThrowsExactly<ExperimentsException>(() => runner.Run(SmallRun(b => b.AddEncoder("qt", "classification", ["title"], labelColumn: "colour", parameters: Tiny)), new RunOptions { ReportDirectory = folder.Path }));
        StringAssert.StartsWith(label.Message, "Encoder 'qt': labelColumn 'colour' is not a categorical column of this table; its categorical columns: user, item,");
    }

    [TestMethod]
    public void A_click_model_on_embeddings_saves_its_encoder_inside_and_loads_alone()
    {
        var table = DemoShop(100, 80).Table("clicks");
        var log = ClickLog.From(table);
        var vocabulary = TextTokenizer.LearnVocabulary(log.Text.SelectMany(c => c), 400);
        var encoder = new BertEncoder(new EncoderOptions { VocabularySize = vocabulary.Count, HiddenSize = 16, Layers = 1, AttentionHeads = 2, IntermediateSize = 32 }, seed: 3);
        var embedder = new CachedEmbedder(new EncoderEmbedder(encoder, new TextTokenizer(vocabulary), 16, TestDevice.Name, name: "tiny"));
        var embedding = new TextEmbedding("tiny", (output, input) => new TextEmbeddingEstimator(embedder, 16, output, input));
        var model = CtrTrainer.Fit(log, new CtrOptions { Algorithm = CtrAlgorithm.LogisticRegression, Features = new CtrFeatureOptions { TextEmbedding = embedding } });
        var fields = ((IEnumerable<Microsoft.ML.ITransformer>)model.Pipeline).ToList();
        Assert.AreEqual(log.Schema.Text.Count, fields.OfType<TextEmbeddingTransformer>().Count(), "one embedding step per text column, inside the pipeline");
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "model.zip");
        model.Save(path);
        CollectionAssert.AreEqual(model.Predict(log), CtrModel.Load(path).Predict(log), "the saved pipeline carries the encoder: no embedding to pass on load");
    }
}
