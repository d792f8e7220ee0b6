using System.Diagnostics;
using Experiments.Core;
using Experiments.Search.Data;
using Lucene.Net.Analysis;
using Lucene.Net.Analysis.Cn.Smart;
using Lucene.Net.Analysis.En;
using Lucene.Net.Analysis.Standard;
using Lucene.Net.Analysis.TokenAttributes;
using Lucene.Net.Documents;
using Lucene.Net.Index;
using Lucene.Net.QueryParsers.Classic;
using Lucene.Net.Search;
using Lucene.Net.Search.Similarities;
using Lucene.Net.Store;
using Lucene.Net.Util;

namespace Experiments.Search.Retrieval;

/// <summary>BM25 settings: Lucene's k1 and b, the boost of each field (0 leaves a field out), and the analyser's language.</summary>
public sealed record Bm25Options
{
    public double K1 { get; init; } = 1.2;
    public double B { get; init; } = 0.75;
    public double TitleBoost { get; init; } = 2;
    public double DescriptionBoost { get; init; } = 1;
    public double AttributesBoost { get; init; } = 1;
    public double CategoryBoost { get; init; } = 0.5;
    /// <summary>english (stop words, possessives, Porter stemming), chinese (SmartCn word segmentation) or standard (Unicode words, lower-cased).</summary>
    public string Language { get; init; } = Core.Definitions.SearchSpec.English;
}

/// <summary>
/// A Lucene.NET index of a catalogue, scored with <see cref="BM25Similarity"/>: one text field per part of a product
/// (title, description, attributes, category), each analysed with the language's analyser. A query is analysed the
/// same way and matches any field (Lucene's MultiFieldQueryParser with the fields' boosts, OR between terms), so a
/// product's score is the boosted sum of its per-field BM25 scores. <see cref="FieldScores"/> gives the per-field
/// scores of chosen products, for a re-ranker.
/// </summary>
public sealed class Bm25Index : IDisposable
{
    public static IReadOnlyList<string> Languages => Core.Definitions.SearchSpec.Languages;
    public static readonly IReadOnlyList<string> Fields = ["title", "description", "attributes", "category"];
    private const string Ordinal = "ordinal";
    private const LuceneVersion Version = LuceneVersion.LUCENE_48;

    private readonly RAMDirectory _directory = new();
    private readonly DirectoryReader _reader;
    private readonly IndexSearcher _searcher;
    private readonly Analyzer _analyzer;
    private readonly string[] _fields;
    private readonly Dictionary<string, float> _boosts;
    private readonly long[] _ordinals;

    public Bm25Index(ProductCatalogue catalogue, Bm25Options options)
    {
        Options = options;
        _analyzer = CreateAnalyzer(options.Language);
        var similarity = new BM25Similarity((float)options.K1, (float)options.B);
        var clock = Stopwatch.StartNew();
        using (var writer = new IndexWriter(_directory, new IndexWriterConfig(Version, _analyzer) { Similarity = similarity, OpenMode = OpenMode.CREATE, RAMBufferSizeMB = 64 }))
        {
            for (var p = 0; p < catalogue.Count; p++)
            {
                var document = new Document
                {
                    new TextField("title", catalogue.Titles[p], Field.Store.NO),
                    new TextField("attributes", catalogue.Attributes[p], Field.Store.NO),
                    new TextField("category", catalogue.Categories[p], Field.Store.NO),
                    new NumericDocValuesField(Ordinal, p),
                };
                if (catalogue.Descriptions is { } descriptions) document.Add(new TextField("description", descriptions[p], Field.Store.NO));
                writer.AddDocument(document);
            }
            writer.Commit();
        }
        IndexSeconds = clock.Elapsed.TotalSeconds;
        _reader = DirectoryReader.Open(_directory);
        _searcher = new IndexSearcher(_reader) { Similarity = similarity };
        _ordinals = new long[_reader.MaxDoc];
        foreach (var leaf in _reader.Leaves)
        {
            var values = leaf.AtomicReader.GetNumericDocValues(Ordinal);
            for (var d = 0; d < leaf.AtomicReader.MaxDoc; d++) _ordinals[leaf.DocBase + d] = values.Get(d);
        }
        var boosts = new Dictionary<string, float>
        {
            ["title"] = (float)options.TitleBoost,
            ["description"] = catalogue.Descriptions is null ? 0 : (float)options.DescriptionBoost,
            ["attributes"] = (float)options.AttributesBoost,
            ["category"] = (float)options.CategoryBoost,
        };
        _boosts = boosts.Where(b => b.Value > 0).ToDictionary(b => b.Key, b => b.Value);
        if (_boosts.Count == 0) throw new ExperimentsException("BM25 needs at least one field with a boost above 0 (titleBoost, descriptionBoost, attributesBoost, categoryBoost).");
        _fields = _boosts.Keys.ToArray();
        Products = catalogue.Count;
    }

    public Bm25Options Options { get; }
    public int Products { get; }
    /// <summary>Seconds spent analysing and indexing the catalogue.</summary>
    public double IndexSeconds { get; }

    public static Analyzer CreateAnalyzer(string language) => language switch
    {
        "english" => new EnglishAnalyzer(Version),
        "chinese" => new SmartChineseAnalyzer(Version),
        "standard" => new StandardAnalyzer(Version),
        _ => throw new ExperimentsException(Core.Definitions.DefinitionValidator.UnknownValue($"language '{language}'", language, Languages)),
    };

    /// <summary>The terms the index sees in <paramref name="text"/> (analysed: lower-cased, stemmed, stop words removed).</summary>
    public IReadOnlyList<string> Terms(string text)
    {
        var terms = new List<string>();
        using var stream = _analyzer.GetTokenStream("title", new StringReader(text));
        var term = stream.AddAttribute<ICharTermAttribute>();
        stream.Reset();
        while (stream.IncrementToken()) terms.Add(term.ToString());
        stream.End();
        return terms;
    }

    /// <summary>The <paramref name="depth"/> best products for <paramref name="query"/>, without <paramref name="excluded"/>.</summary>
    public Ranked Search(string query, int depth, int excluded = -1)
    {
        if (Parse(query, _fields, _boosts) is not { } parsed) return Ranked.Empty;
        var top = _searcher.Search(parsed, depth + (excluded >= 0 ? 1 : 0));
        var hits = top.ScoreDocs.Select(s => (Product: (int)_ordinals[s.Doc], s.Score)).Where(h => h.Product != excluded).Take(depth).ToArray();
        return new Ranked(hits.Select(h => h.Product).ToArray(), hits.Select(h => h.Score).ToArray());
    }

    /// <summary>Per field (in <see cref="Fields"/> order), the unboosted BM25 score of each candidate for the query (0 where it does not match).</summary>
    public float[][] FieldScores(string query, int[] candidates)
    {
        var position = new Dictionary<int, int>(candidates.Length);
        for (var i = 0; i < candidates.Length; i++) position.TryAdd(candidates[i], i);
        var scores = new float[Fields.Count][];
        for (var f = 0; f < Fields.Count; f++)
        {
            scores[f] = new float[candidates.Length];
            if (Parse(query, [Fields[f]], null) is { } parsed) _searcher.Search(parsed, new CandidateCollector(_ordinals, position, scores[f]));
        }
        return scores;
    }

    private Query? Parse(string text, string[] fields, Dictionary<string, float>? boosts)
    {
        // Lower-cased so that words such as AND or NOT are not operators; escaped so that : ( ) " * are plain text.
        var escaped = QueryParserBase.Escape(text.ToLowerInvariant()).Trim();
        if (escaped.Length == 0) return null;
        var parser = boosts is null ? new MultiFieldQueryParser(Version, fields, _analyzer) : new MultiFieldQueryParser(Version, fields, _analyzer, boosts);
        try
        {
            var query = parser.Parse(escaped);
            return query is BooleanQuery { Clauses.Count: 0 } ? null : query;
        }
        catch (ParseException)
        {
            return null; // nothing searchable is left (e.g. only stop words)
        }
    }

    public void Dispose()
    {
        _reader.Dispose();
        _directory.Dispose();
        _analyzer.Dispose();
    }

    /// <summary>Records the score of each matching document that is one of the candidates.</summary>
    private sealed class CandidateCollector(long[] ordinals, Dictionary<int, int> candidates, float[] scores) : ICollector
    {
        private Scorer? _scorer;
        private int _base;

        public bool AcceptsDocsOutOfOrder => true;

        public void SetScorer(Scorer scorer) => _scorer = scorer;

        public void SetNextReader(AtomicReaderContext context) => _base = context.DocBase;

        public void Collect(int doc)
        {
            if (candidates.TryGetValue((int)ordinals[_base + doc], out var i)) scores[i] = _scorer!.GetScore();
        }
    }
}
