using System.Globalization;
using System.Text;

namespace Experiments.Text;

/// <summary>
/// BERT's basic tokenisation (Google's tokenization.py, BasicTokenizer), before WordPiece: control characters and
/// U+0000 / U+FFFD are removed, white space becomes a space, CJK ideographs are spaced (optional), each white-space
/// token is lower-cased and stripped of accents (NFD, then combining marks dropped) as configured, and punctuation
/// (every non-alphanumeric ASCII character, and Unicode's P* categories) is split off as tokens of its own. Symbols
/// outside those classes (® ™ × ★ ½ £ °, emoji) stay part of their word, as in the reference; WordPiece then finds
/// them in the vocabulary or makes the word [UNK]. Lower-casing is Python's str.lower(), which the reference uses:
/// full case mapping (İ becomes i + U+0307) and the final sigma (ΟΔΟΣ becomes οδος). Characters are Unicode code
/// points, not UTF-16 units, so emoji and rare ideographs count once.
/// </summary>
internal static class BertBasicTokenizer
{
    public static List<string> Split(string text, TokenizerOptions options)
    {
        var cleaned = new StringBuilder(text.Length + 16);
        // EnumerateRunes yields U+FFFD for a lone surrogate; the reference drops both (as Cs and as U+FFFD).
        foreach (var rune in text.EnumerateRunes())
        {
            if (rune.Value is 0 or 0xFFFD || IsControl(rune)) continue;
            if (IsWhitespace(rune)) cleaned.Append(' ');
            else if (options.TokenizeChineseChars && IsChineseCharacter(rune.Value)) cleaned.Append(' ').Append(rune.ToString()).Append(' ');
            else cleaned.Append(rune.ToString());
        }
        var words = new List<string>();
        foreach (var token in cleaned.ToString().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            var normalised = options.LowerCase ? PythonLower(token) : token;
            if (options.StripsAccents) normalised = StripAccents(normalised);
            SplitOnPunctuation(normalised, words);
        }
        return words;
    }

    private static void SplitOnPunctuation(string token, List<string> words)
    {
        var start = 0;
        for (var i = 0; i < token.Length;)
        {
            var rune = Rune.GetRuneAt(token, i);
            var width = rune.Utf16SequenceLength;
            if (IsPunctuation(rune))
            {
                if (i > start) words.Add(token[start..i]);
                words.Add(token.Substring(i, width));
                start = i + width;
            }
            i += width;
        }
        if (start < token.Length) words.Add(token[start..]);
    }

    private static string StripAccents(string token)
    {
        if (IsAscii(token)) return token;
        var decomposed = CanonicalDecomposition.Decompose(token);
        var kept = new StringBuilder(decomposed.Length);
        foreach (var rune in decomposed.EnumerateRunes())
            if (Rune.GetUnicodeCategory(rune) != UnicodeCategory.NonSpacingMark) kept.Append(rune.ToString());
        return kept.ToString();
    }

    /// <summary>Python's str.lower(): Unicode's simple mappings plus İ → i̇ (SpecialCasing) and the final-sigma rule.</summary>
    internal static string PythonLower(string token)
    {
        if (IsAscii(token)) return token.ToLowerInvariant();
        var runes = token.EnumerateRunes().ToArray();
        var lowered = new StringBuilder(token.Length + 1);
        for (var i = 0; i < runes.Length; i++)
        {
            var rune = runes[i];
            if (rune.Value == 0x130) lowered.Append("i\u0307");
            else if (rune.Value == 0x3A3) lowered.Append(IsFinalSigma(runes, i) ? 'ς' : 'σ');
            else lowered.Append(Rune.ToLowerInvariant(rune).ToString());
        }
        return lowered.ToString();
    }

    /// <summary>Σ ends a word when a cased letter precedes it and none follows (case-ignorable characters skipped both ways).</summary>
    private static bool IsFinalSigma(Rune[] runes, int at)
    {
        var before = at - 1;
        while (before >= 0 && IsCaseIgnorable(runes[before])) before--;
        if (before < 0 || !IsCased(runes[before])) return false;
        var after = at + 1;
        while (after < runes.Length && IsCaseIgnorable(runes[after])) after++;
        return after == runes.Length || !IsCased(runes[after]);
    }

    private static bool IsCased(Rune rune) => Rune.GetUnicodeCategory(rune) is UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
        || Rune.ToUpperInvariant(rune) != rune || Rune.ToLowerInvariant(rune) != rune;

    private static bool IsCaseIgnorable(Rune rune) =>
        Rune.GetUnicodeCategory(rune) is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark or UnicodeCategory.Format or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol
        // Word_Break MidLetter, MidNumLet and Single_Quote: ' . : · and their relatives.
        || rune.Value is 0x27 or 0x2E or 0x3A or 0xB7 or 0x387 or 0x55F or 0x5F4 or 0x2018 or 0x2019 or 0x2024 or 0x2027 or 0xFE13 or 0xFE52 or 0xFE55 or 0xFF07 or 0xFF0E or 0xFF1A;

    /// <summary>Space, tab, newline, carriage return, and Unicode space separators (Zs).</summary>
    private static bool IsWhitespace(Rune rune) => rune.Value is ' ' or '\t' or '\n' or '\r' || Rune.GetUnicodeCategory(rune) == UnicodeCategory.SpaceSeparator;

    /// <summary>Unicode's C* categories (control, format, unassigned, private use, surrogate), except tab, newline and carriage return.</summary>
    private static bool IsControl(Rune rune) => rune.Value is not ('\t' or '\n' or '\r') && Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format
        or UnicodeCategory.OtherNotAssigned or UnicodeCategory.PrivateUse or UnicodeCategory.Surrogate;

    /// <summary>Every non-letter, non-digit ASCII character ($ + ^ ` | included), and Unicode's P* categories.</summary>
    private static bool IsPunctuation(Rune rune) => rune.Value is >= 33 and <= 47 or >= 58 and <= 64 or >= 91 and <= 96 or >= 123 and <= 126
        || Rune.GetUnicodeCategory(rune) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
            or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;

    /// <summary>The CJK Unified Ideographs blocks and the compatibility ideographs (not Hiragana, Katakana or Hangul), as in the reference.</summary>
    private static bool IsChineseCharacter(int code) => code is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF
        or >= 0x2A700 and <= 0x2B73F or >= 0x2B740 and <= 0x2B81F or >= 0x2B820 and <= 0x2CEAF or >= 0xF900 and <= 0xFAFF or >= 0x2F800 and <= 0x2FA1F;

    private static bool IsAscii(string text) => Ascii.IsValid(text);
}
