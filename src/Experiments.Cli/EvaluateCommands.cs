using System.CommandLine;
using Experiments.Core.Definitions;
using Experiments.Evaluation;
using Experiments.Reports;
using Experiments.Runs;
using Spectre.Console;

namespace Experiments.Cli;

/// <summary>`evaluate` (score any tool's predictions) and the `bench` commands whose figures go into docs/benchmarks.md.</summary>
internal static class EvaluateCommands
{
    public static void Add(RootCommand root)
    {
        var truth = new Option<string>("--truth") { Description = "Truth CSV: user,item[,relevance] (ranking), user,item,rating (rating) or id,label (classification).", Required = true };
        var predictions = new Option<string>("--predictions") { Description = "Predictions CSV: user,item,score, or id,score (binary), or id,p_class1,p_class2,… (multiclass).", Required = true };
        var metrics = new Option<string[]>("--metrics") { Description = "Metrics, comma-separated or repeated: ndcg@10,recall@10 or auc,log-loss,f1.", Required = true, AllowMultipleArgumentsPerToken = true };
        var threshold = new Option<double?>("--relevance-threshold") { Description = "Ranking: a truth row is relevant when its relevance is at least this." };
        var graded = new Option<bool>("--graded") { Description = "Ranking: NDCG with graded relevance (gain 2^relevance − 1)." };
        var rule = new Option<string>("--threshold-rule") { Description = "Binary classification: max-f1, target-precision or fixed (max-f1 and target-precision need --validation-*).", DefaultValueFactory = _ => "fixed" };
        rule.AcceptOnlyFromAmong("max-f1", "target-precision", "fixed");
        var decision = new Option<double>("--threshold") { Description = "Binary classification: the fixed decision threshold.", DefaultValueFactory = _ => 0.5 };
        var target = new Option<double>("--target-precision") { Description = "Binary classification: precision to reach for rule target-precision.", DefaultValueFactory = _ => 0.9 };
        var validationTruth = new Option<string?>("--validation-truth") { Description = "Binary classification: validation truth, to choose the threshold on." };
        var validationPredictions = new Option<string?>("--validation-predictions") { Description = "Binary classification: validation predictions." };
        var bootstrap = new Option<int>("--bootstrap") { Description = "Bootstrap resamples for intervals (0: none).", DefaultValueFactory = _ => 200 };
        var seed = new Option<int>("--seed") { Description = "Seed of the bootstrap.", DefaultValueFactory = _ => 42 };

        var evaluate = new Command("evaluate", "Score a predictions file from any tool against a truth file, with the platform's metrics.");
        evaluate.With(truth, predictions, metrics, threshold, graded, rule, decision, target, validationTruth, validationPredictions, bootstrap, seed, CommonOptions.Json, CommonOptions.Quiet);
        evaluate.SetAction((parse, _) => CommonOptions.Guarded(parse, output =>
        {
            var names = parse.GetValue(metrics)!.SelectMany(m => m.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToList();
            var spec = new EvaluationSpec
            {
                RelevanceThreshold = parse.GetValue(threshold),
                GradedRelevance = parse.GetValue(graded),
                ThresholdRule = parse.GetValue(rule)!,
                Threshold = parse.GetValue(decision),
                TargetPrecision = parse.GetValue(target),
                BootstrapSamples = parse.GetValue(bootstrap),
            };
            var vt = parse.GetValue(validationTruth);
            var vp = parse.GetValue(validationPredictions);
            if ((vt is null) != (vp is null)) throw new Core.ExperimentsException("--validation-truth and --validation-predictions go together.");
            var result = ExternalEvaluation.Evaluate(parse.GetValue(truth)!, parse.GetValue(predictions)!, names, spec, parse.GetValue(seed), vt is null ? null : (vt, vp!));
            output.JsonResult(result);
            var table = new Table().Border(TableBorder.Rounded).AddColumns("metric", "value", $"{spec.ConfidenceLevel:P0} interval", "n");
            foreach (var v in result.Values)
                table.AddRow(Markup.Escape(v.Label), MetricCell.Number(v.Value), v.Lower is { } lo && v.Upper is { } hi ? Markup.Escape($"[{MetricCell.Number(lo)}, {MetricCell.Number(hi)}]") : "—", v.Users.ToString());
            table.Caption = new TableTitle(Markup.Escape(result.Protocol));
            output.Write(table);
            return Task.FromResult(ExitCodes.Success);
        }));
        root.Subcommands.Add(evaluate);

        var bench = new Command("bench", "Benchmarks whose figures go into docs/benchmarks.md.");
        var evaluation = new Command("evaluate", "Full-catalogue top-K evaluation speed and peak memory on a generated latent-factor model.");
        var users = new Option<int>("--users") { DefaultValueFactory = _ => 100_000 };
        var items = new Option<int>("--items") { DefaultValueFactory = _ => 50_000 };
        var rank = new Option<int>("--rank") { DefaultValueFactory = _ => 64 };
        var k = new Option<int>("--k") { DefaultValueFactory = _ => 10 };
        evaluation.With(users, items, rank, k, seed, CommonOptions.Json, CommonOptions.Quiet);
        evaluation.SetAction((parse, cancel) => CommonOptions.Guarded(parse, output =>
        {
            var options = new EvaluationBenchmarkOptions(parse.GetValue(users), parse.GetValue(items), parse.GetValue(rank), parse.GetValue(k), Seed: parse.GetValue(seed));
            var result = EvaluationBenchmark.Run(options, cancel: cancel);
            output.JsonResult(result);
            output.Line($"{options.Users:N0} users × {options.Items:N0} items, rank {options.Rank}, top {options.K}: " +
                        $"[bold]{result.Seconds:F1} s[/], {result.PairsPerSecond / 1e6:F0} M scored pairs/s, peak working set {result.PeakWorkingSetBytes / 1048576.0:F0} MiB, {result.Threads} cores");
            return Task.FromResult(ExitCodes.Success);
        }));
        bench.Subcommands.Add(evaluation);

        var train = new Command("train", "Training time per iteration and peak memory, on a data set or a generated matrix (scaling runs).");
        var model = new Option<string>("--model") { Description = "implicit-als, als (explicit) or sgd (explicit).", DefaultValueFactory = _ => "implicit-als" };
        model.AcceptOnlyFromAmong("implicit-als", "als", "sgd");
        var dataset = new Option<string?>("--dataset") { Description = "A registered data set (e.g. amazon-beauty-5core); omit to generate a matrix." };
        var interactions = new Option<long>("--interactions") { Description = "Generated interactions.", DefaultValueFactory = _ => 50_000_000 };
        var trainUsers = new Option<int>("--users") { Description = "Generated users.", DefaultValueFactory = _ => 1_000_000 };
        var trainItems = new Option<int>("--items") { Description = "Generated items.", DefaultValueFactory = _ => 100_000 };
        var iterations = new Option<int>("--iterations") { DefaultValueFactory = _ => 3 };
        train.With(model, dataset, interactions, trainUsers, trainItems, rank, iterations, seed, CommonOptions.Json, CommonOptions.Quiet);
        train.SetAction((parse, cancel) => CommonOptions.Guarded(parse, output =>
        {
            var options = new TrainingBenchmarkOptions
            {
                Model = parse.GetValue(model)!, Dataset = parse.GetValue(dataset), Interactions = parse.GetValue(interactions),
                Users = parse.GetValue(trainUsers), Items = parse.GetValue(trainItems), Rank = parse.GetValue(rank), Iterations = parse.GetValue(iterations), Seed = parse.GetValue(seed),
            };
            var result = TrainingBenchmark.Run(options, new Progress<string>(m => output.Line($"[grey]{Markup.Escape(m)}[/]")), cancel);
            output.JsonResult(result);
            output.Line($"{options.Model} rank {options.Rank} on {result.Interactions:N0} interactions ({result.Users:N0} users × {result.Items:N0} items): " +
                        $"[bold]{result.SecondsPerIteration:F2} s per iteration[/], peak working set {result.PeakWorkingSetBytes / 1048576.0:F0} MiB, {result.Threads} cores");
            return Task.FromResult(ExitCodes.Success);
        }));
        bench.Subcommands.Add(train);

        var ease = new Command("ease", "EASE on the whole catalogue against capped fits: fit time, peak memory and NDCG@10 on one stratified split, in float64 and float32.");
        var easeDataset = new Option<string>("--dataset") { DefaultValueFactory = _ => "movielens-latest-small" };
        var easeLambda = new Option<double>("--lambda") { DefaultValueFactory = _ => 500 };
        var easeCaps = new Option<int[]>("--max-items") { Description = "Caps to fit, 0 for the whole catalogue; the first is the reference of the paired differences.", DefaultValueFactory = _ => [0, 3000], AllowMultipleArgumentsPerToken = true };
        var float32Only = new Option<bool>("--float32-only") { Description = "Skip the float64 fits." };
        var easeTest = new Option<double>("--test-fraction") { DefaultValueFactory = _ => 0.2 };
        ease.With(easeDataset, easeLambda, easeCaps, float32Only, easeTest, seed, CommonOptions.Json, CommonOptions.Quiet);
        ease.SetAction((parse, cancel) => CommonOptions.Guarded(parse, output =>
        {
            var options = new EaseBenchmarkOptions
            {
                Dataset = parse.GetValue(easeDataset)!, Lambda = parse.GetValue(easeLambda), MaxItems = parse.GetValue(easeCaps)!, BothPrecisions = !parse.GetValue(float32Only),
                TestFraction = parse.GetValue(easeTest), Seed = parse.GetValue(seed),
            };
            var (benchUsers, benchItems, trainRows, rows) = EaseBenchmark.Run(options, new Progress<string>(m => output.Line($"[grey]{Markup.Escape(m)}[/]")), cancel);
            output.JsonResult(new { options, users = benchUsers, items = benchItems, trainRows, rows });
            var table = new Table().Border(TableBorder.Rounded).AddColumns("precision", "modelled items", "fit (s)", "fit CPU (s)", "peak RSS (MiB)", "RSS before (MiB)", "NDCG@10", "Δ vs first (95% CI)", "residual");
            foreach (var r in rows)
                table.AddRow(r.Precision, $"{r.ModelledItems:N0}{(r.MaxItems is { } cap ? $" (cap {cap:N0})" : "")}", $"{r.FitSeconds:F1}", $"{r.FitCpuSeconds:F1}", $"{r.PeakResidentBytes / 1048576.0:F0}", $"{r.ResidentBeforeBytes / 1048576.0:F0}",
                    $"{r.Ndcg10:F4}", Markup.Escape($"{r.Difference:+0.0000;-0.0000;0} [{r.DifferenceLower:+0.0000;-0.0000;0}, {r.DifferenceUpper:+0.0000;-0.0000;0}]"), $"{r.Residual:G2}");
            table.Caption = new TableTitle(Markup.Escape($"{options.Dataset}: {benchUsers:N0} users, {benchItems:N0} items, {trainRows:N0} training rows; λ {options.Lambda}, stratified {1 - options.TestFraction:P0}/{options.TestFraction:P0} split, seed {options.Seed}, training items removed; {Environment.ProcessorCount} cores"));
            output.Write(table);
            return Task.FromResult(ExitCodes.Success);
        }));
        bench.Subcommands.Add(ease);

        var files = new Command("model-files", "Saving and loading EASE and matrix factorisation: ML.NET model zip and the recommender's own file, size and time (medians), scores checked after loading.");
        var filesDataset = new Option<string>("--dataset") { DefaultValueFactory = _ => "movielens-latest-small" };
        var repeats = new Option<int>("--repeats") { DefaultValueFactory = _ => 3 };
        files.With(filesDataset, repeats, CommonOptions.Json, CommonOptions.Quiet);
        files.SetAction((parse, cancel) => CommonOptions.Guarded(parse, output =>
        {
            var rows = ModelFileBenchmark.Run(parse.GetValue(filesDataset)!, parse.GetValue(repeats), new Progress<string>(m => output.Line($"[grey]{Markup.Escape(m)}[/]")), cancel);
            output.JsonResult(rows);
            var table = new Table().Border(TableBorder.Rounded).AddColumns("model", "fit (s)", "zip (MiB)", "zip save (s)", "zip load (s)", "own file (MiB)", "file save (s)", "file load (s)", "same scores");
            foreach (var r in rows)
                table.AddRow(r.Model, $"{r.FitSeconds:F1}", $"{r.ZipBytes / 1048576.0:F1}", $"{r.ZipSaveSeconds:F2}", $"{r.ZipLoadSeconds:F2}", $"{r.FileBytes / 1048576.0:F1}", $"{r.FileSaveSeconds:F2}", $"{r.FileLoadSeconds:F2}", r.SameScores ? "yes" : "NO");
            output.Write(table);
            return Task.FromResult(ExitCodes.Success);
        }));
        bench.Subcommands.Add(files);

        var ctr = new Command("ctr", "Our click models and the XGBoost / scikit-learn peers on the same seeded stratified 80/20 splits.");
        var ctrDataset = new Option<string>("--dataset") { DefaultValueFactory = _ => "criteo-samples" };
        var ctrTable = new Option<string>("--table") { DefaultValueFactory = _ => "train" };
        var dedup = new Option<bool>("--drop-duplicates") { Description = "Drop exact duplicate rows first (the Avazu sample)." };
        var ctrModels = new Option<string[]>("--models") { DefaultValueFactory = _ => ["ffm", "logistic-regression", "lightgbm"], AllowMultipleArgumentsPerToken = true };
        var seeds = new Option<int>("--seeds") { DefaultValueFactory = _ => 5 };
        var peers = new Option<string?>("--peers") { Description = "Peers script (default: experiments/benchmarks/peers/ctr_peers.py; 'none' to skip)." };
        ctr.With(ctrDataset, ctrTable, dedup, ctrModels, seeds, peers, CommonOptions.Json, CommonOptions.Quiet);
        ctr.SetAction((parse, _) => CommonOptions.Guarded(parse, output =>
        {
            var script = parse.GetValue(peers) switch
            {
                "none" => null,
                { } given => given,
                null => Path.Combine("experiments", "benchmarks", "peers", "ctr_peers.py"),
            };
            var (rows, summary) = CtrBenchmark.Run(parse.GetValue(ctrDataset)!, parse.GetValue(ctrTable)!, parse.GetValue(dedup), parse.GetValue(ctrModels)!,
                parse.GetValue(seeds), script, new Progress<string>(m => output.Line($"[grey]{Markup.Escape(m)}[/]")));
            output.JsonResult(new { rows, summary });
            var table = new Table().Border(TableBorder.Rounded).AddColumns("model", "AUC mean ± sd", "log loss", "splits");
            foreach (var s in summary) table.AddRow(Markup.Escape(s.Model), $"{s.MeanAuc:F3} ± {s.AucSd:F3}", $"{s.MeanLogLoss:F3}", s.Splits.ToString());
            output.Write(table);
            return Task.FromResult(ExitCodes.Success);
        }));
        bench.Subcommands.Add(ctr);

        var throughput = new Command("ctr-throughput", "Training and scoring rows per second of a click model on a generated click log.");
        var throughputModel = new Option<string>("--model") { DefaultValueFactory = _ => "lightgbm" };
        var throughputRows = new Option<int>("--rows") { DefaultValueFactory = _ => 1_000_000 };
        throughput.With(throughputModel, throughputRows, seed, CommonOptions.Json, CommonOptions.Quiet);
        throughput.SetAction((parse, _) => CommonOptions.Guarded(parse, output =>
        {
            var result = CtrThroughput.Run(parse.GetValue(throughputModel)!, parse.GetValue(throughputRows), parse.GetValue(seed));
            output.JsonResult(result);
            output.Line($"{result.Model} on {result.Rows:N0} rows: training {result.TrainSeconds:F1} s ([bold]{result.TrainRowsPerSecond:N0} rows/s[/]), " +
                        $"scoring {result.ScoreSeconds:F1} s ([bold]{result.ScoreRowsPerSecond:N0} rows/s[/]), peak working set {result.PeakWorkingSetBytes / 1048576.0:F0} MiB");
            return Task.FromResult(ExitCodes.Success);
        }));
        bench.Subcommands.Add(throughput);

        var text = new Command("text", "PriceRunner: same-product retrieval and category classification for TF-IDF, averaged GloVe and the trained encoder.");
        var epochs = new Option<int>("--epochs") { DefaultValueFactory = _ => 3 };
        var queries = new Option<int>("--queries") { DefaultValueFactory = _ => 2000 };
        var textDevice = new Option<string>("--device") { DefaultValueFactory = _ => "auto", Description = "auto, cpu, cuda or cuda:N." };
        var textPrecision = new Option<string>("--precision") { DefaultValueFactory = _ => "auto", Description = "auto (bfloat16 on CUDA), float32, bfloat16 or float16." };
        text.With(epochs, queries, textDevice, textPrecision, seed, CommonOptions.Json, CommonOptions.Quiet);
        text.SetAction((parse, _) => CommonOptions.Guarded(parse, output =>
        {
            var rows = TextBenchmark.Run(parse.GetValue(seed), parse.GetValue(epochs), parse.GetValue(queries), new Progress<string>(m => output.Line($"[grey]{Markup.Escape(m)}[/]")),
                parse.GetValue(textDevice)!, parse.GetValue(textPrecision)!);
            output.JsonResult(rows);
            var table = new Table().Border(TableBorder.Rounded).AddColumns("representation", "recall@10", "NDCG@10", "MRR@10", "accuracy", "macro-F1", "embed (s)", "train (s)");
            foreach (var r in rows)
                table.AddRow(r.Embedder, $"{r.Recall10:F3}", $"{r.Ndcg10:F3}", $"{r.Mrr10:F3}", $"{r.Accuracy:F3}", $"{r.MacroF1:F3}", $"{r.EmbedSeconds:F1}", $"{r.TrainSeconds:F1}");
            output.Write(table);
            return Task.FromResult(ExitCodes.Success);
        }));
        bench.Subcommands.Add(text);

        var textThroughput = new Command("text-throughput", "Encoder encoding and training speed on fixed shapes, beside PyTorch on the same shapes (experiments/benchmarks/peers/encoder_throughput.py).");
        var device = new Option<string>("--device") { DefaultValueFactory = _ => "cpu", Description = "cpu, cuda or cuda:N." };
        var precision = new Option<string>("--precision") { DefaultValueFactory = _ => "float32", Description = "float32, bfloat16, float16 or auto (mixed precision: matrix products in the 16-bit type)." };
        var pytorch = new Option<string?>("--pytorch") { Description = "PyTorch script (default experiments/benchmarks/peers/encoder_throughput.py; 'none' to skip). Its interpreter: EXPERIMENTS_PYTHON, else /usr/bin/python3." };
        var defaults = new Experiments.Text.EncoderThroughputOptions();
        Option<int> Shape(string name, int value, string description) => new(name) { DefaultValueFactory = _ => value, Description = description };
        var hidden = Shape("--hidden", defaults.Hidden, "Hidden size.");
        var layers = Shape("--layers", defaults.Layers, "Transformer layers.");
        var heads = Shape("--heads", defaults.Heads, "Attention heads.");
        var intermediate = Shape("--intermediate", defaults.Intermediate, "Feed-forward size.");
        var length = Shape("--length", defaults.Length, "Tokens per text.");
        var batch = Shape("--batch", defaults.Batch, "Texts per batch.");
        var threads = Shape("--threads", defaults.Threads, "CPU threads (both sides).");
        textThroughput.With(device, precision, pytorch, hidden, layers, heads, intermediate, length, batch, threads, seed, CommonOptions.Json, CommonOptions.Quiet);
        textThroughput.SetAction((parse, _) => CommonOptions.Guarded(parse, output =>
        {
            var options = defaults with
            {
                Seed = parse.GetValue(seed), Device = parse.GetValue(device)!, Precision = parse.GetValue(precision)!, Hidden = parse.GetValue(hidden), Layers = parse.GetValue(layers),
                Heads = parse.GetValue(heads), Intermediate = parse.GetValue(intermediate), Length = parse.GetValue(length), Batch = parse.GetValue(batch), Threads = parse.GetValue(threads),
            };
            var results = new List<Experiments.Text.EncoderThroughputResult> { Experiments.Text.EncoderThroughput.Run(options) };
            var script = parse.GetValue(pytorch) switch { "none" => null, { } given => given, null => Path.Combine("experiments", "benchmarks", "peers", "encoder_throughput.py") };
            if (script is not null) results.Add(PythonPeers.EncoderThroughput(script, options));
            output.JsonResult(new { options, results });
            var table = new Table().Border(TableBorder.Rounded).AddColumns("implementation", "encoded titles/s", "training steps/s");
            foreach (var r in results) table.AddRow(Markup.Escape(r.Implementation), $"{r.EncodedPerSecond:N0}", $"{r.TrainStepsPerSecond:F2}");
            table.Caption = new TableTitle($"{options.Device}, {options.Precision}: batch {options.Batch} × {options.Length} tokens, hidden {options.Hidden}, {options.Layers} layers, {options.Heads} heads, {options.Threads} threads");
            output.Write(table);
            return Task.FromResult(ExitCodes.Success);
        }));
        bench.Subcommands.Add(textThroughput);
        BenchSweepCommands.Add(bench);
        BenchStoreCommands.Add(bench);
        root.Subcommands.Add(bench);
    }
}
