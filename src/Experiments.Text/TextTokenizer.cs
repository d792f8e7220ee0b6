using System.Text;
using Experiments.Core;

namespace Experiments.Text;

/// <summary>
/// How a BERT tokenizer normalises text: the fields of a Hugging Face tokenizer_config.json that change its output,
/// with Hugging Face's defaults (an uncased BERT).
/// </summary>
public sealed record TokenizerOptions
{
    /// <summary>do_lower_case.</summary>
    public bool LowerCase { get; init; } = true;
    /// <summary>strip_accents: null strips exactly when lower-casing (Hugging Face's rule), true or false decides alone.</summary>
    public bool? StripAccents { get; init; }
    /// <summary>tokenize_chinese_chars: put spaces around every CJK ideograph, so each becomes a word.</summary>
    public bool TokenizeChineseChars { get; init; } = true;
    /// <summary>A longer word (in Unicode code points) becomes [UNK] without trying WordPiece (BERT: 100).</summary>
    public int MaxInputCharsPerWord { get; init; } = 100;
    public string UnknownToken { get; init; } = "[UNK]";
    public string ClassToken { get; init; } = "[CLS]";
    public string SeparatorToken { get; init; } = "[SEP]";
    public string PaddingToken { get; init; } = "[PAD]";

    public bool StripsAccents => StripAccents ?? LowerCase;
}

/// <summary>
/// BERT's tokeniser as Google published it (tokenization.py): <see cref="BertBasicTokenizer"/> (cleaning, CJK
/// spacing, lower-casing and accent stripping as <see cref="TokenizerOptions"/> say, punctuation split off), then
/// greedy longest-match-first WordPiece over a vocab.txt (one token per line, the line number is the id; "##" marks a
/// piece that continues a word). A word that cannot be covered by pieces, or is longer than
/// <see cref="TokenizerOptions.MaxInputCharsPerWord"/>, becomes one [UNK]. Also learns such a vocabulary from an
/// experiment's own corpus.
/// </summary>
public sealed class TextTokenizer
{
    public static readonly string[] SpecialTokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

    // Word-initial tokens, and "##" pieces keyed without their "##", looked up by span so WordPiece allocates nothing.
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _words;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _continuations;
    private readonly int _unknown;
    private readonly int _class;
    private readonly int _separator;

    public TextTokenizer(IReadOnlyList<string> vocabulary, TokenizerOptions? options = null)
    {
        Options = options ?? new TokenizerOptions();
        Vocabulary = vocabulary;
        var words = new Dictionary<string, int>(StringComparer.Ordinal);
        var continuations = new Dictionary<string, int>(StringComparer.Ordinal);
        // A token listed twice keeps its last line, as the reference's dictionary does.
        for (var id = 0; id < vocabulary.Count; id++)
        {
            var token = vocabulary[id];
            if (token.StartsWith("##", StringComparison.Ordinal)) continuations[token[2..]] = id;
            else words[token] = id;
        }
        int Special(string token, string role) => words.TryGetValue(token, out var id) ? id
            : throw new ExperimentsException($"The vocabulary ({vocabulary.Count} tokens) has no {role} token '{token}'; a BERT vocabulary needs {Options.UnknownToken}, {Options.ClassToken} and {Options.SeparatorToken}.");
        _unknown = Special(Options.UnknownToken, "unknown-word");
        _class = Special(Options.ClassToken, "class");
        _separator = Special(Options.SeparatorToken, "separator");
        PaddingId = words.GetValueOrDefault(Options.PaddingToken);
        _words = words.GetAlternateLookup<ReadOnlySpan<char>>();
        _continuations = continuations.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public IReadOnlyList<string> Vocabulary { get; }

    public TokenizerOptions Options { get; }

    /// <summary>The id padded positions carry ([PAD]'s, else 0); attention and pooling ignore them either way.</summary>
    public int PaddingId { get; }

    /// <summary>[CLS] tokens [SEP], truncated to <paramref name="maxLength"/> ids (the [SEP] kept).</summary>
    public int[] Encode(string text, int maxLength) => Encode(text, maxLength, out _);

    /// <summary>As <see cref="Encode(string, int)"/>; <paramref name="truncated"/> says whether tokens were cut off.</summary>
    public int[] Encode(string text, int maxLength, out bool truncated)
    {
        if (maxLength < 2) throw new ExperimentsException($"A maximum length of {maxLength} leaves no room for [CLS] and [SEP]; use at least 2.");
        var ids = new List<int> { _class };
        foreach (var word in BertBasicTokenizer.Split(text, Options))
        {
            WordPiece(word, ids);
            if (ids.Count >= maxLength) break;
        }
        truncated = ids.Count > maxLength - 1;
        if (truncated) ids.RemoveRange(maxLength - 1, ids.Count - (maxLength - 1));
        ids.Add(_separator);
        return ids.ToArray();
    }

    /// <summary>The tokens of <paramref name="text"/> without [CLS] and [SEP], as strings (what BERT's FullTokenizer.tokenize returns).</summary>
    public List<string> Tokenize(string text)
    {
        var ids = new List<int>();
        foreach (var word in BertBasicTokenizer.Split(text, Options)) WordPiece(word, ids);
        return ids.Select(id => Vocabulary[id]).ToList();
    }

    /// <summary>Greedy longest-match-first: the longest vocabulary token that starts the rest of the word, "##"-prefixed after the first.</summary>
    private void WordPiece(string word, List<int> ids)
    {
        // Boundaries of the word's code points in UTF-16 units (an emoji is one character, two units).
        Span<int> bounds = word.Length <= 128 ? stackalloc int[word.Length + 1] : new int[word.Length + 1];
        var count = 0;
        for (var i = 0; i < word.Length; i += char.IsSurrogatePair(word, i) ? 2 : 1) bounds[count++] = i;
        bounds[count] = word.Length;
        if (count > Options.MaxInputCharsPerWord)
        {
            ids.Add(_unknown);
            return;
        }
        var first = ids.Count;
        for (var start = 0; start < count;)
        {
            var lookup = start == 0 ? _words : _continuations;
            var end = count;
            var found = -1;
            for (; end > start; end--)
                if (lookup.TryGetValue(word.AsSpan(bounds[start], bounds[end] - bounds[start]), out found)) break;
            if (end == start)
            {
                ids.RemoveRange(first, ids.Count - first);
                ids.Add(_unknown);
                return;
            }
            ids.Add(found);
            start = end;
        }
    }

    /// <summary>
    /// A WordPiece vocabulary learned from <paramref name="corpus"/> by frequency: the special tokens, every character
    /// seen (alone and as a "##" continuation, so no word is ever unknown), then the most frequent whole words and word
    /// endings ("##ing") until <paramref name="size"/> tokens. Words are those of BERT's basic tokeniser with
    /// <paramref name="options"/> (default: lower-cased, accents stripped).
    /// </summary>
    public static List<string> LearnVocabulary(IEnumerable<string> corpus, int size, TokenizerOptions? options = null)
    {
        options ??= new TokenizerOptions();
        var words = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var text in corpus)
            foreach (var word in BertBasicTokenizer.Split(text, options))
                words[word] = words.GetValueOrDefault(word) + 1;
        var vocabulary = new List<string>(SpecialTokens);
        var seen = new HashSet<string>(vocabulary, StringComparer.Ordinal);
        void Add(string token) { if (vocabulary.Count < size && seen.Add(token)) vocabulary.Add(token); }
        var characters = words.Keys.SelectMany(w => w.EnumerateRunes().Select(r => r.ToString())).Distinct().Order(StringComparer.Ordinal).ToList();
        foreach (var c in characters) Add(c);
        foreach (var c in characters) Add("##" + c);
        var pieces = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (word, count) in words)
        {
            var runes = word.EnumerateRunes().Select(r => r.ToString()).ToArray();
            for (var length = 2; length <= Math.Min(5, runes.Length - 1); length++)
            {
                var ending = "##" + string.Concat(runes[^length..]);
                pieces[ending] = pieces.GetValueOrDefault(ending) + count;
            }
        }
        // Whole words and endings compete by frequency for the remaining places.
        foreach (var token in words.Select(w => (Token: w.Key, Count: w.Value)).Concat(pieces.Select(p => (Token: p.Key, Count: p.Value)))
                     .Where(t => t.Count >= 2).OrderByDescending(t => t.Count).ThenBy(t => t.Token, StringComparer.Ordinal))
            Add(token.Token);
        return vocabulary;
    }
}
