using System.Text;
using System.Text.Json;

namespace Experiments.Core.Definitions;

/// <summary>Writes the JSON Schema (draft 2020-12) of experiment definitions from the same shapes the validator uses.</summary>
public static class SchemaWriter
{
    public static string Write(ObjectShape root)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("$schema", "https://json-schema.org/draft/2020-12/schema");
            w.WriteString("$id", "experiment.schema.json");
            w.WriteString("title", "Experiment definition");
            WriteBody(w, root);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    private static void WriteShape(Utf8JsonWriter w, Shape shape)
    {
        w.WriteStartObject();
        WriteBody(w, shape);
        w.WriteEndObject();
    }

    private static void WriteBody(Utf8JsonWriter w, Shape shape)
    {
        w.WriteString("description", shape.Description);
        switch (shape)
        {
            case StringShape s:
                w.WriteString("type", "string");
                if (s.Allowed is { } allowed) WriteStrings(w, "enum", allowed);
                else w.WriteNumber("minLength", 1);
                if (s.Default is string d) w.WriteString("default", d);
                break;
            case IntegerShape i:
                w.WriteString("type", "integer");
                if (i.Min is { } imin) w.WriteNumber("minimum", imin);
                if (i.Max is { } imax) w.WriteNumber("maximum", imax);
                if (i.Default is { } idef) w.WriteNumber("default", idef);
                break;
            case NumberShape n:
                w.WriteString("type", "number");
                if (n.Min is { } min) w.WriteNumber(n.ExclusiveMin ? "exclusiveMinimum" : "minimum", min);
                if (n.Max is { } max) w.WriteNumber(n.ExclusiveMax ? "exclusiveMaximum" : "maximum", max);
                if (n.Default is { } ndef) w.WriteNumber("default", ndef);
                break;
            case BooleanShape b:
                w.WriteString("type", "boolean");
                if (b.Default is { } bdef) w.WriteBoolean("default", bdef);
                break;
            case ArrayShape a:
                w.WriteString("type", "array");
                if (a.MinItems > 0) w.WriteNumber("minItems", a.MinItems);
                if (a.UniqueItems) w.WriteBoolean("uniqueItems", true);
                w.WritePropertyName("items");
                WriteShape(w, a.Items);
                break;
            case MetricShape m:
                w.WriteString("type", "string");
                w.WriteString("pattern", m.Pattern);
                WriteStrings(w, "examples", m.Metrics.Select(x => x.RequiresK ? x.Name + "@10" : x.Name).ToList());
                break;
            case ObjectShape o:
                WriteObject(w, o);
                break;
            case TaggedObjectShape t:
                // One branch per tag value: editors then complete the properties that belong to the chosen type.
                w.WriteString("type", "object");
                w.WriteStartArray("required");
                w.WriteStringValue(t.Tag);
                w.WriteEndArray();
                w.WriteStartObject("properties");
                w.WritePropertyName(t.Tag);
                w.WriteStartObject();
                w.WriteString("type", "string");
                WriteStrings(w, "enum", t.Variants.Keys.ToList());
                w.WriteEndObject();
                w.WriteEndObject();
                w.WriteStartArray("allOf");
                foreach (var (tag, variant) in t.Variants)
                {
                    w.WriteStartObject();
                    w.WriteStartObject("if");
                    w.WriteStartObject("properties");
                    w.WriteStartObject(t.Tag);
                    w.WriteString("const", tag);
                    w.WriteEndObject();
                    w.WriteEndObject();
                    w.WriteEndObject();
                    w.WriteStartObject("then");
                    WriteBody(w, variant);
                    w.WriteEndObject();
                    w.WriteEndObject();
                }
                w.WriteEndArray();
                break;
            case MapShape map:
                w.WriteString("type", "object");
                w.WritePropertyName("additionalProperties");
                WriteShape(w, map.Values);
                break;
            case StringOrObjectShape either:
                w.WriteStartArray("oneOf");
                WriteShape(w, either.Text);
                WriteShape(w, either.Object);
                w.WriteEndArray();
                break;
            case AnyShape:
                break;
            case EitherShape e:
                w.WriteString("type", "object");
                w.WriteStartObject("if");
                WriteStrings(w, "required", [e.Key]);
                w.WriteEndObject();
                w.WriteStartObject("then");
                WriteBody(w, e.WithKey);
                w.WriteEndObject();
                w.WriteStartObject("else");
                WriteBody(w, e.Otherwise);
                w.WriteEndObject();
                break;
        }
    }

    private static void WriteObject(Utf8JsonWriter w, ObjectShape o)
    {
        w.WriteString("type", "object");
        w.WriteStartObject("properties");
        foreach (var property in o.Properties)
        {
            w.WritePropertyName(property.Name);
            WriteShape(w, property.Shape);
        }
        w.WriteEndObject();
        var required = o.Properties.Where(p => p.Required).Select(p => p.Name).ToList();
        if (required.Count > 0) WriteStrings(w, "required", required);
        w.WriteBoolean("additionalProperties", false);
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, IReadOnlyList<string> values)
    {
        w.WriteStartArray(name);
        foreach (var value in values) w.WriteStringValue(value);
        w.WriteEndArray();
    }
}
