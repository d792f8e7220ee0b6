using System.CommandLine;
using System.Diagnostics;
using System.Text;
using Experiments.Core;
using Experiments.Datasets.Loading;
using Experiments.Text;

namespace Experiments.Cli;

/// <summary>`embed`: sentence vectors of a file of texts from any supported checkpoint, as .npy or .tsv.</summary>
internal static class EmbedCommands
{
    private static readonly string[] InputExtensions = [".txt", ".csv", ".tsv"];

    public static void Add(RootCommand root)
    {
        var checkpoint = new Option<string>("--checkpoint") { Required = true, Description = "A checkpoint folder in the Hugging Face layout (config.json, vocab.txt, model.safetensors), e.g. a BERT or MiniLM from the hub, or one a run saved." };
        var input = new Option<string>("--input") { Required = true, Description = "Texts: .txt (one text per line, every line a row) or .csv / .tsv with a header (choose the column with --column)." };
        var column = new Option<string?>("--column") { Description = "The text column of a .csv or .tsv input (may be left out when the file has one column)." };
        var output = new Option<string>("--output") { Required = true, Description = "Where to write the vectors, one row per text in input order: .npy (NumPy float32, rows × dimension) or .tsv." };
        var pooling = new Option<string?>("--pooling") { Description = $"Sentence vector: {string.Join(", ", EncoderCheckpoint.PoolingNames)} (default: the checkpoint's own, e.g. sentence-transformers' 1_Pooling, else mean)." };
        var batchSize = new Option<int>("--batch-size") { DefaultValueFactory = _ => 64, Description = "Texts per batch (halved automatically if the device runs out of memory)." };
        var device = new Option<string>("--device") { DefaultValueFactory = _ => "auto", Description = "auto (CUDA when available), cpu, cuda or cuda:N." };
        var precision = new Option<string>("--precision") { DefaultValueFactory = _ => "auto", Description = "Matrix products in: auto (bfloat16 on CUDA, float32 on CPU), float32, bfloat16 or float16." };
        var maxLength = new Option<int?>("--max-length") { Description = "Longest text in tokens, [CLS] and [SEP] included; longer ones are truncated and counted (default: the checkpoint's max_seq_length or model_max_length, at most its positions)." };
        var threads = new Option<int>("--threads") { DefaultValueFactory = _ => 0, Description = "CPU threads (0: all processors)." };
        var normalize = new Option<bool>("--normalize") { DefaultValueFactory = _ => true, Description = "L2-normalise each vector (so dot products are cosines); --normalize false writes the pooled vectors as they are." };
        var embed = new Command("embed", "Embed texts with a text-encoder checkpoint and write the vectors (.npy or .tsv) for other tools to check or use.");
        embed.With(checkpoint, input, column, output, pooling, batchSize, device, precision, maxLength, threads, normalize, CommonOptions.Json, CommonOptions.Quiet);
        embed.SetAction((parse, cancel) => CommonOptions.Guarded(parse, result =>
        {
            var outputPath = parse.GetValue(output)!;
            if (!VectorFileWriter.Extensions.Contains(Path.GetExtension(outputPath).ToLowerInvariant()))
                throw new ExperimentsException($"--output {outputPath}: unknown vector file type '{Path.GetExtension(outputPath)}'; allowed: {string.Join(", ", VectorFileWriter.Extensions)}.");
            var chosenPooling = parse.GetValue(pooling) is { } name
                ? EncoderCheckpoint.ParsePooling(name) ?? throw new ExperimentsException($"--pooling '{name}' is not one of: {string.Join(", ", EncoderCheckpoint.PoolingNames)}.")
                : (Pooling?)null;
            var texts = ReadTexts(parse.GetValue(input)!, parse.GetValue(column));
            var folder = parse.GetValue(checkpoint)!;
            var loaded = EncoderCheckpoint.Load(folder, chosenPooling);
            if (loaded.Encoder.Options.Pooling == Pooling.Pooler && !loaded.HasPooler)
                throw new ExperimentsException($"{folder} has no pooler weights (pooler.dense), so --pooling pooler would use random ones; choose mean, cls or max.");
            var length = parse.GetValue(maxLength) ?? loaded.MaxLength;
            if (length > loaded.Encoder.Options.MaxPositions)
                throw new ExperimentsException($"--max-length {length} exceeds the checkpoint's {loaded.Encoder.Options.MaxPositions} positions (max_position_embeddings); use at most {loaded.Encoder.Options.MaxPositions}.");
            var options = new EmbeddingOptions(length, parse.GetValue(batchSize), parse.GetValue(device)!, parse.GetValue(precision)!, parse.GetValue(threads), parse.GetValue(normalize));
            var clock = Stopwatch.StartNew();
            void Progress(int done)
            {
                if (!result.Quiet) Console.Error.WriteLine($"embedded {done:N0} of {texts.Count:N0} texts ({done / Math.Max(clock.Elapsed.TotalSeconds, 1e-3):N0}/s)");
            }
            var summary = TextVectors.Embed(loaded.Encoder, loaded.Tokenizer, texts, outputPath, options, Progress, result.Warning, cancel);
            var pooled = loaded.Encoder.Options.Pooling.ToString().ToLowerInvariant();
            result.JsonResult(new { summary.Output, summary.Rows, summary.Dimension, pooling = pooled, options.Normalize, options.MaxLength, summary.Truncated, seconds = clock.Elapsed.TotalSeconds });
            result.Line(Spectre.Console.Markup.Escape($"Wrote {summary.Rows:N0} vectors of {summary.Dimension} dimensions to {summary.Output} (pooling {pooled}, {(options.Normalize ? "L2-normalised" : "not normalised")}, at most {options.MaxLength} tokens)."));
            if (summary.Truncated > 0) result.Warning($"{summary.Truncated:N0} text(s) were longer than {options.MaxLength} tokens and were truncated; raise --max-length (at most {loaded.Encoder.Options.MaxPositions}) to keep more.");
            return Task.FromResult(ExitCodes.Success);
        }));
        root.Subcommands.Add(embed);
    }

    /// <summary>The texts of a .txt file (every line), or of one column of a .csv / .tsv file with a header; strict UTF-8.</summary>
    private static List<string> ReadTexts(string path, string? column)
    {
        var extension = Path.GetExtension(path).ToLowerInvariant();
        if (!InputExtensions.Contains(extension))
            throw new ExperimentsException($"--input {path}: unknown text file type '{Path.GetExtension(path)}'; allowed: {string.Join(", ", InputExtensions)}.");
        if (!File.Exists(path)) throw new ExperimentsException($"--input {path}: no such file.");
        var strict = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        try
        {
            if (extension == ".txt")
            {
                if (column is not null) throw new ExperimentsException($"--column applies to .csv and .tsv input; {path} is plain text (one text per line).");
                return File.ReadAllLines(path, strict).ToList();
            }
            using var reader = new DelimitedReader(new StreamReader(path, strict, detectEncodingFromByteOrderMarks: true), extension == ".tsv" ? "\t" : ",", quote: '"', path);
            var header = reader.Read() ?? throw new ExperimentsException($"{path} is empty: a header row naming the columns is needed.");
            var index = column is null
                ? header.Count == 1 ? 0 : throw new ExperimentsException($"{path} has {header.Count} columns ({string.Join(", ", header)}); choose the text column with --column.")
                : header.IndexOf(column) is var found and >= 0 ? found
                : throw new ExperimentsException($"--column '{column}' is not a column of {path}; its columns: {string.Join(", ", header)}.");
            var texts = new List<string>();
            while (reader.Read() is { } fields)
            {
                if (reader.UnterminatedQuote) throw new ExperimentsException($"{path}, line {reader.Line}: a quoted field is never closed.");
                if (fields.Count != header.Count) throw new ExperimentsException($"{path}, line {reader.Line}: {fields.Count} fields where the header has {header.Count} ({string.Join(", ", header)}).");
                texts.Add(fields[index]);
            }
            return texts;
        }
        catch (DecoderFallbackException e)
        {
            throw new ExperimentsException($"--input {path} is not valid UTF-8 ({e.Message}); save it as UTF-8.", e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ExperimentsException($"--input {path} cannot be read ({e.Message}).", e);
        }
    }
}
