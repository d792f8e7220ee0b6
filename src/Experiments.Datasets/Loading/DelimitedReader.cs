using System.Text;

namespace Experiments.Datasets.Loading;

/// <summary>
/// Streams the records of a delimited text file with their line numbers. Quoting follows RFC 4180 where a field
/// starts with a quote; a quote inside an unquoted field is plain text, so PriceRunner's <c>55" DR+</c> parses as
/// written instead of swallowing the rest of the file. Multi-character delimiters ("::") are supported.
/// </summary>
public sealed class DelimitedReader : IDisposable
{
    private readonly TextReader _reader;
    private readonly string _delimiter;
    private readonly bool _quoted;
    private readonly StringBuilder _field = new();
    private long _nextLine = 1;

    public DelimitedReader(TextReader reader, string delimiter, bool quoted)
    {
        _reader = reader;
        _delimiter = delimiter;
        _quoted = quoted;
    }

    public static DelimitedReader Open(string path, string delimiter, bool quoted, string encoding) =>
        new(new StreamReader(path, EncodingOf(encoding), detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16), delimiter, quoted);

    public static Encoding EncodingOf(string name) => name.ToLowerInvariant() switch
    {
        "latin1" or "iso-8859-1" => Encoding.Latin1,
        _ => new UTF8Encoding(false),
    };

    /// <summary>The line on which the last record returned by <see cref="Read"/> started.</summary>
    public long Line { get; private set; }

    /// <summary>Set when the last record had an unterminated quoted field (it ran to the end of the file).</summary>
    public bool UnterminatedQuote { get; private set; }

    /// <summary>The next record's fields, or null at the end of the file. Blank lines are skipped.</summary>
    public List<string>? Read()
    {
        while (true)
        {
            var line = _reader.ReadLine();
            if (line is null) return null;
            Line = _nextLine++;
            if (line.Length == 0 || (line.Length == 1 && line[0] == '\r')) continue;
            return Split(line);
        }
    }

    private List<string> Split(string line)
    {
        var fields = new List<string>();
        UnterminatedQuote = false;
        var i = 0;
        while (true)
        {
            _field.Clear();
            if (_quoted && i < line.Length && line[i] == '"')
            {
                i++;
                while (true)
                {
                    if (i >= line.Length)
                    {
                        // A quoted field may span lines.
                        var next = _reader.ReadLine();
                        if (next is null) { UnterminatedQuote = true; break; }
                        _nextLine++;
                        _field.Append('\n');
                        line = next;
                        i = 0;
                        continue;
                    }
                    if (line[i] == '"')
                    {
                        if (i + 1 < line.Length && line[i + 1] == '"') { _field.Append('"'); i += 2; continue; }
                        i++;
                        break;
                    }
                    _field.Append(line[i++]);
                }
                // Text between the closing quote and the delimiter is kept rather than lost.
                while (i < line.Length && !AtDelimiter(line, i)) _field.Append(line[i++]);
            }
            else
            {
                while (i < line.Length && !AtDelimiter(line, i)) _field.Append(line[i++]);
            }
            fields.Add(_field.ToString().TrimEnd('\r'));
            if (i >= line.Length) return fields;
            i += _delimiter.Length;
        }
    }

    private bool AtDelimiter(string line, int i) =>
        _delimiter.Length == 1 ? line[i] == _delimiter[0] : string.CompareOrdinal(line, i, _delimiter, 0, _delimiter.Length) == 0;

    public void Dispose() => _reader.Dispose();
}
