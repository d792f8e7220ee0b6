using System.Globalization;
using System.Text;
using Experiments.Core;
using Microsoft.ML.Tokenizers;

namespace Experiments.Text;

/// <summary>
/// WordPiece tokenisation with Microsoft.ML.Tokenizers' BertTokenizer over a vocab.txt (one token per line, the line
/// number is the id), and a way to learn such a vocabulary from an experiment's own corpus.
/// </summary>
public sealed class TextTokenizer
{
    public static readonly string[] SpecialTokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

    private readonly BertTokenizer _tokenizer;

    public TextTokenizer(IReadOnlyList<string> vocabulary)
    {
        if (vocabulary.Count < SpecialTokens.Length || vocabulary[0] != "[PAD]")
            throw new ExperimentsException("A vocabulary must start with [PAD] (id 0) and contain [UNK], [CLS] and [SEP].");
        Vocabulary = vocabulary;
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(string.Join('\n', vocabulary) + "\n"));
        _tokenizer = BertTokenizer.Create(stream, new BertOptions { LowerCaseBeforeTokenization = true });
    }

    public IReadOnlyList<string> Vocabulary { get; }

    /// <summary>[CLS] tokens [SEP], truncated to <paramref name="maxLength"/> ids (the [SEP] kept).</summary>
    public int[] Encode(string text, int maxLength)
    {
        var ids = _tokenizer.EncodeToIds(text).ToList();
        if (ids.Count > maxLength) ids = [.. ids.Take(maxLength - 1), ids[^1]];
        return ids.ToArray();
    }

    /// <summary>
    /// A WordPiece vocabulary learned from <paramref name="corpus"/> by frequency: the special tokens, every character
    /// seen (alone and as a "##" continuation, so no word is ever unknown), then the most frequent whole words and word
    /// endings ("##ing") until <paramref name="size"/> tokens. Lower-cased, split on white space and punctuation, as
    /// BERT's basic tokeniser does.
    /// </summary>
    public static List<string> LearnVocabulary(IEnumerable<string> corpus, int size)
    {
        var words = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var text in corpus)
            foreach (var word in BasicTokens(text))
                words[word] = words.GetValueOrDefault(word) + 1;
        var vocabulary = new List<string>(SpecialTokens);
        var seen = new HashSet<string>(vocabulary, StringComparer.Ordinal);
        void Add(string token) { if (vocabulary.Count < size && seen.Add(token)) vocabulary.Add(token); }
        var characters = words.Keys.SelectMany(w => w.EnumerateRunes().Select(r => r.ToString())).Distinct().Order(StringComparer.Ordinal).ToList();
        foreach (var c in characters) Add(c);
        foreach (var c in characters) Add("##" + c);
        var pieces = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (word, count) in words)
            for (var length = 2; length <= Math.Min(5, word.Length - 1); length++)
                pieces["##" + word[^length..]] = pieces.GetValueOrDefault("##" + word[^length..]) + count;
        // Whole words and endings compete by frequency for the remaining places.
        foreach (var token in words.Select(w => (Token: w.Key, Count: w.Value)).Concat(pieces.Select(p => (Token: p.Key, Count: p.Value)))
                     .Where(t => t.Count >= 2).OrderByDescending(t => t.Count).ThenBy(t => t.Token, StringComparer.Ordinal))
            Add(token.Token);
        return vocabulary;
    }

    private static IEnumerable<string> BasicTokens(string text)
    {
        var current = new StringBuilder();
        foreach (var ch in text.ToLowerInvariant())
        {
            if (char.IsWhiteSpace(ch) || char.IsPunctuation(ch) || char.IsSymbol(ch))
            {
                if (current.Length > 0) { yield return current.ToString(); current.Clear(); }
                if (!char.IsWhiteSpace(ch)) yield return ch.ToString(CultureInfo.InvariantCulture);
            }
            else current.Append(ch);
        }
        if (current.Length > 0) yield return current.ToString();
    }
}
