using System.Globalization;
using System.Text;

namespace Experiments.Text;

/// <summary>
/// Unicode canonical decomposition (NFD) without ICU: the project runs in .NET's invariant globalization mode, where
/// string.Normalize leaves non-ASCII text unchanged, so BERT's accent stripping (NFD, then drop combining marks) could
/// not work through it. The table is Unicode 15.0's UnicodeData.txt (Resources/canonical-decompositions.txt, its header
/// says how it was made); Hangul syllables decompose algorithmically; marks are put in canonical order.
/// </summary>
internal static class CanonicalDecomposition
{
    private static readonly Lazy<(Dictionary<int, int[]> Decompositions, Dictionary<int, int> Classes)> Table = new(Load);

    public static string Decompose(string text)
    {
        var (decompositions, classes) = Table.Value;
        var code = new List<int>(text.Length + 8);
        foreach (var rune in text.EnumerateRunes())
        {
            var value = rune.Value;
            if (value is >= HangulFirst and <= HangulLast)
            {
                var index = value - HangulFirst;
                code.Add(0x1100 + index / (21 * 28));
                code.Add(0x1161 + index % (21 * 28) / 28);
                if (index % 28 != 0) code.Add(0x11A7 + index % 28);
            }
            else if (decompositions.TryGetValue(value, out var parts)) code.AddRange(parts);
            else code.Add(value);
        }
        // Canonical ordering: within each run of non-starters, a stable sort by combining class.
        for (var i = 1; i < code.Count; i++)
        {
            var current = code[i];
            var rank = classes.GetValueOrDefault(current);
            if (rank == 0) continue;
            var j = i;
            while (j > 0 && classes.GetValueOrDefault(code[j - 1]) > rank)
            {
                code[j] = code[j - 1];
                j--;
            }
            code[j] = current;
        }
        var result = new StringBuilder(code.Count + 4);
        foreach (var value in code) result.Append(char.ConvertFromUtf32(value));
        return result.ToString();
    }

    private const int HangulFirst = 0xAC00;
    private const int HangulLast = 0xD7A3;

    private static (Dictionary<int, int[]>, Dictionary<int, int>) Load()
    {
        using var stream = typeof(CanonicalDecomposition).Assembly.GetManifestResourceStream("Experiments.Text.canonical-decompositions.txt")
            ?? throw new InvalidOperationException("The canonical decomposition table is not embedded in Experiments.Text.");
        using var reader = new StreamReader(stream);
        var direct = new Dictionary<int, int[]>();
        var classes = new Dictionary<int, int>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var fields = line.Split(';');
            var code = int.Parse(fields[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (fields[1] != "0") classes[code] = int.Parse(fields[1], CultureInfo.InvariantCulture);
            if (fields[2].Length > 0) direct[code] = fields[2].Split(' ').Select(p => int.Parse(p, NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToArray();
        }
        // Full decomposition applies the mappings until none applies (Å → A + ring, ẛ̣ → ſ + dot above + dot below).
        int[] Full(int code) => direct.TryGetValue(code, out var parts) ? parts.SelectMany(Full).ToArray() : [code];
        return (direct.Keys.ToDictionary(c => c, Full), classes);
    }
}
