using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Experiments.Core.Definitions;

public enum JsonKind { Object, Array, String, Number, True, False, Null }

/// <summary>
/// A JSON value that remembers where it was written (1-based line and column), so that validation messages
/// can point into the user's file. System.Text.Json's DOM forgets positions, hence this small tree.
/// </summary>
public sealed class JsonTree
{
    private JsonTree(JsonKind kind, int line, int column)
    {
        Kind = kind;
        Line = line;
        Column = column;
    }

    public JsonKind Kind { get; }
    public int Line { get; }
    public int Column { get; }
    public string? Text { get; private init; }
    public double Number { get; private init; }
    /// <summary>True when the literal has no fraction or exponent (so an integer was written).</summary>
    public bool IsIntegerLiteral { get; private init; }
    public IReadOnlyList<JsonProperty> Properties { get; private init; } = Array.Empty<JsonProperty>();
    public IReadOnlyList<JsonTree> Items { get; private init; } = Array.Empty<JsonTree>();

    public JsonTree? this[string name] => Properties.FirstOrDefault(p => p.Name == name)?.Value;

    public string KindName => Kind switch
    {
        JsonKind.True or JsonKind.False => "boolean",
        JsonKind.Number => IsIntegerLiteral ? "integer" : "number",
        _ => Kind.ToString().ToLowerInvariant(),
    };

    public sealed record JsonProperty(string Name, int Line, int Column, JsonTree Value);

    /// <summary>The value as compact JSON text (numbers as written), e.g. to keep a search space of a definition as text.</summary>
    public string ToJson() => Kind switch
    {
        JsonKind.Object => "{" + string.Join(",", Properties.Select(p => JsonSerializer.Serialize(p.Name) + ":" + p.Value.ToJson())) + "}",
        JsonKind.Array => "[" + string.Join(",", Items.Select(i => i.ToJson())) + "]",
        JsonKind.String => JsonSerializer.Serialize(Text),
        JsonKind.Number => Text!,
        JsonKind.True => "true",
        JsonKind.False => "false",
        _ => "null",
    };

    /// <summary>Parses <paramref name="json"/>; syntax errors become a <see cref="DefinitionException"/> naming line and column.</summary>
    public static JsonTree Parse(string json, string source)
    {
        if (string.IsNullOrWhiteSpace(json))
            throw new DefinitionException(source, [new DefinitionError("$", 1, 1, "the file is empty; expected a JSON object")]);
        var bytes = Encoding.UTF8.GetBytes(json);
        var lineStarts = new List<int> { 0 };
        for (var i = 0; i < bytes.Length; i++)
            if (bytes[i] == (byte)'\n') lineStarts.Add(i + 1);
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = false });
        try
        {
            reader.Read();
            var root = ReadValue(ref reader, bytes, lineStarts);
            if (reader.Read())
            {
                var (line, column) = Position(lineStarts, bytes, (int)reader.TokenStartIndex);
                throw new DefinitionException(source, [new DefinitionError("$", line, column, "unexpected content after the end of the JSON document")]);
            }
            return root;
        }
        catch (JsonException e)
        {
            var line = (int)(e.LineNumber ?? 0) + 1;
            var column = (int)(e.BytePositionInLine ?? 0) + 1;
            var message = e.Message;
            var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
            if (cut > 0) message = message[..cut];
            throw new DefinitionException(source, [new DefinitionError("$", line, column, $"invalid JSON: {message.TrimEnd('.', ' ')}")]);
        }
    }

    private static (int Line, int Column) Position(List<int> lineStarts, byte[] bytes, int offset)
    {
        var line = lineStarts.BinarySearch(offset);
        if (line < 0) line = ~line - 1;
        // Columns count characters, not bytes, so a name with accents still points at the right place.
        var column = Encoding.UTF8.GetCharCount(bytes, lineStarts[line], offset - lineStarts[line]) + 1;
        return (line + 1, column);
    }

    private static JsonTree ReadValue(ref Utf8JsonReader reader, byte[] bytes, List<int> lineStarts)
    {
        var (line, column) = Position(lineStarts, bytes, (int)reader.TokenStartIndex);
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject:
            {
                var properties = new List<JsonProperty>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                {
                    var (keyLine, keyColumn) = Position(lineStarts, bytes, (int)reader.TokenStartIndex);
                    var name = reader.GetString()!;
                    reader.Read();
                    properties.Add(new JsonProperty(name, keyLine, keyColumn, ReadValue(ref reader, bytes, lineStarts)));
                }
                return new JsonTree(JsonKind.Object, line, column) { Properties = properties };
            }
            case JsonTokenType.StartArray:
            {
                var items = new List<JsonTree>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                    items.Add(ReadValue(ref reader, bytes, lineStarts));
                return new JsonTree(JsonKind.Array, line, column) { Items = items };
            }
            case JsonTokenType.String:
                return new JsonTree(JsonKind.String, line, column) { Text = reader.GetString() };
            case JsonTokenType.Number:
            {
                var raw = Encoding.UTF8.GetString(reader.ValueSpan);
                return new JsonTree(JsonKind.Number, line, column)
                {
                    Text = raw,
                    Number = double.Parse(raw, NumberStyles.Float, CultureInfo.InvariantCulture),
                    IsIntegerLiteral = raw.IndexOfAny(['.', 'e', 'E']) < 0,
                };
            }
            case JsonTokenType.True: return new JsonTree(JsonKind.True, line, column);
            case JsonTokenType.False: return new JsonTree(JsonKind.False, line, column);
            default: return new JsonTree(JsonKind.Null, line, column);
        }
    }
}
