using System.Text;
using System.Text.Unicode;
using Experiments.Core;

namespace Experiments.Datasets.Loading;

/// <summary>
/// Streams the records of a delimited text file with their line numbers. Quoting follows RFC 4180 where a field
/// starts with the quote character (a quoted field may hold delimiters and line breaks; a doubled quote is one quote);
/// a quote inside an unquoted field is plain text, so PriceRunner's <c>55" DR+</c> parses as written instead of
/// swallowing the rest of the file. Multi-character delimiters ("::") are supported. UTF-8 is decoded strictly: bytes
/// that are not UTF-8 stop reading with the file, line and bytes, instead of becoming U+FFFD.
/// </summary>
public sealed class DelimitedReader : IDisposable
{
    private readonly TextReader _reader;
    private readonly string _delimiter;
    private readonly char? _quote;
    private readonly string? _path;
    private readonly StringBuilder _field = new();
    private long _nextLine = 1;

    /// <param name="quote">The quote character, or null when fields are never quoted.</param>
    /// <param name="path">The file being read, named in encoding errors.</param>
    public DelimitedReader(TextReader reader, string delimiter, char? quote, string? path = null)
    {
        _reader = reader;
        _delimiter = delimiter;
        _quote = quote;
        _path = path;
    }

    public static DelimitedReader Open(string path, string delimiter, bool quoted, string encoding, char quote = '"') =>
        new(new StreamReader(path, EncodingOf(encoding), detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16), delimiter, quoted ? quote : null, path);

    /// <summary>"utf-8" (strict), "latin1" (ISO-8859-1) or "windows-1252" (Latin-1 with € ‘ ’ “ ” – — … in 0x80–0x9F).</summary>
    public static Encoding EncodingOf(string name) => name.ToLowerInvariant() switch
    {
        "utf-8" or "utf8" => new UTF8Encoding(false, throwOnInvalidBytes: true),
        "latin1" or "iso-8859-1" => Encoding.Latin1,
        "windows-1252" or "cp1252" => CodePagesEncodingProvider.Instance.GetEncoding(1252)!,
        _ => throw new ExperimentsException($"unknown encoding '{name}'; allowed: utf-8, latin1, windows-1252"),
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
            var line = NextLine();
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
            if (_quote is { } quote && i < line.Length && line[i] == quote)
            {
                i++;
                while (true)
                {
                    if (i >= line.Length)
                    {
                        // A quoted field may span lines.
                        var next = NextLine();
                        if (next is null) { UnterminatedQuote = true; break; }
                        _nextLine++;
                        _field.Append('\n');
                        line = next;
                        i = 0;
                        continue;
                    }
                    if (line[i] == quote)
                    {
                        if (i + 1 < line.Length && line[i + 1] == quote) { _field.Append(quote); i += 2; continue; }
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

    private string? NextLine()
    {
        try
        {
            return _reader.ReadLine();
        }
        catch (DecoderFallbackException)
        {
            throw InvalidUtf8(_path ?? "the input");
        }
    }

    /// <summary>The error for a file that is not valid UTF-8: its first bad bytes, located by a scan of the raw bytes.</summary>
    public static DataFileException InvalidUtf8(string path)
    {
        var (line, bytes) = File.Exists(path) ? FirstInvalidUtf8(path) : (0, []);
        return new DataFileException(Path.GetFileName(path), line, null,
            $"not valid UTF-8{(bytes.Length > 0 ? $" (bytes {string.Join(" ", bytes.Select(b => $"0x{b:X2}"))})" : "")}; the file is read as UTF-8 (the default): " +
            "if it is Latin-1 or Windows-1252, set \"encoding\": \"latin1\" or \"windows-1252\" in the data set's \"format\" (or --encoding with `datasets add`)");
    }

    /// <summary>The 1-based line of the first byte sequence that is not UTF-8, and up to four of its bytes.</summary>
    private static (long Line, byte[] Bytes) FirstInvalidUtf8(string path)
    {
        using var stream = File.OpenRead(path);
        var buffer = new byte[1 << 16];
        var chars = new char[buffer.Length];
        var line = 1L;
        var kept = 0;
        while (true)
        {
            var read = stream.Read(buffer, kept, buffer.Length - kept);
            var length = kept + read;
            var final = read == 0;
            var status = Utf8.ToUtf16(buffer.AsSpan(0, length), chars, out var consumed, out _, replaceInvalidSequences: false, isFinalBlock: final);
            line += buffer.AsSpan(0, consumed).Count((byte)'\n');
            if (status == System.Buffers.OperationStatus.InvalidData)
                return (line, buffer.AsSpan(consumed, Math.Min(4, length - consumed)).ToArray());
            if (final) return (line, []);
            // A sequence cut by the buffer's end is completed by the next read.
            kept = length - consumed;
            buffer.AsSpan(consumed, kept).CopyTo(buffer);
        }
    }

    private bool AtDelimiter(string line, int i) =>
        _delimiter.Length == 1 ? line[i] == _delimiter[0] : string.CompareOrdinal(line, i, _delimiter, 0, _delimiter.Length) == 0;

    public void Dispose() => _reader.Dispose();
}
