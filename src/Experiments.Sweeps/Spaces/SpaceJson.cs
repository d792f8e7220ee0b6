using System.Globalization;
using System.Text;
using Experiments.Core.Definitions;

namespace Experiments.Sweeps;

/// <summary>
/// Search spaces in JSON, read from the project's positioned JSON so that every error names its JSON path, line and
/// column. A parameter is written as
/// <code>
/// "learningRate": { "float": [0.001, 0.3], "log": true, "lowCost": 0.1 }
/// "leaves":       { "int": [4, 256], "log": true }
/// "rounds":       { "int": [10, 1000], "step": 10 }
/// "loss":         { "choice": ["squared", "logistic"] }
/// "trainer":      { "choice": { "lightgbm": { "leaves": { "int": [4, 256] } }, "logistic-regression": {} } }
/// "l2":           { "float": [1e-6, 1], "log": true, "when": { "trainer": "logistic-regression" } }
/// "seed": 42      (a fixed value; also { "fixed": 42 })
/// </code>
/// Parameters of a choice's sub-space are named <c>choice.value.name</c>.
/// </summary>
public static class SpaceJson
{
    private static readonly string[] Keys = ["float", "int", "choice", "fixed", "log", "step", "lowCost", "when"];
    private static readonly string[] KindKeys = ["float", "int", "choice", "fixed"];

    /// <summary>Parses a whole document holding a space; errors throw a <see cref="DefinitionException"/> naming <paramref name="source"/>.</summary>
    public static SearchSpace Parse(string json, string source, SpaceCatalog? catalog = null) => Read(JsonTree.Parse(json, source), source, "$", catalog);

    /// <summary>Reads the space at <paramref name="node"/> (at JSON path <paramref name="path"/>); every problem found throws together.</summary>
    public static SearchSpace Read(JsonTree node, string source, string path = "$", SpaceCatalog? catalog = null)
    {
        var errors = Check(node, path, catalog, out var space);
        if (errors.Count > 0 || space is null) throw new DefinitionException(source, errors);
        return space;
    }

    /// <summary>The problems of the space at <paramref name="node"/>, for a caller that merges them with its own; the space when there are none.</summary>
    public static List<DefinitionError> Check(JsonTree node, string path, SpaceCatalog? catalog, out SearchSpace? space)
    {
        var reader = new Reader();
        reader.Scope(node, path, "", catalog, null);
        space = null;
        // The checks of ranges and conditions run on every parameter that was well formed, so all problems show at once;
        // a condition naming a malformed parameter is not reported twice.
        var parsed = reader.Parameters;
        foreach (var problem in SearchSpace.Check(parsed))
        {
            if (problem.Field == "when" && parsed.First(p => p.Name == problem.Parameter).When is { } w && reader.Failed.Contains(w.Parameter)) continue;
            var where = reader.Locations[problem.Parameter];
            var (fieldPath, fieldNode) = where.Fields.TryGetValue(problem.Field, out var field) ? field : (where.Path, where.Node);
            reader.Errors.Add(new DefinitionError(fieldPath, fieldNode.Line, fieldNode.Column, problem.Message));
        }
        if (reader.Errors.Count == 0) space = SearchSpace.Create(parsed);
        return reader.Errors;
    }

    private sealed record Location(string Path, JsonTree Node, Dictionary<string, (string Path, JsonTree Node)> Fields);

    private sealed class Reader
    {
        public List<DefinitionError> Errors { get; } = [];
        public List<SearchParameter> Parameters { get; } = [];
        public Dictionary<string, Location> Locations { get; } = new(StringComparer.Ordinal);
        /// <summary>Parameters that had errors of their own and were left out.</summary>
        public HashSet<string> Failed { get; } = new(StringComparer.Ordinal);

        private void Fail(string path, JsonTree node, string message) => Errors.Add(new DefinitionError(path, node.Line, node.Column, message));

        /// <summary>A space object: its parameters under <paramref name="prefix"/>, each existing only under <paramref name="branch"/>.</summary>
        public void Scope(JsonTree node, string path, string prefix, SpaceCatalog? catalog, Condition? branch)
        {
            if (node.Kind != JsonKind.Object) { Fail(path, node, $"expected an object of parameters, got {node.KindName}"); return; }
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in node.Properties)
            {
                var parameterPath = $"{path}.{property.Name}";
                if (!seen.Add(property.Name)) { Errors.Add(new DefinitionError(parameterPath, property.Line, property.Column, $"parameter '{property.Name}' is given twice")); continue; }
                if (string.IsNullOrWhiteSpace(property.Name)) { Errors.Add(new DefinitionError(parameterPath, property.Line, property.Column, "a parameter needs a name")); continue; }
                var before = Errors.Count;
                ParameterEntry(property, parameterPath, prefix, catalog, branch);
                if (Errors.Count > before || !Locations.ContainsKey(prefix + property.Name)) Failed.Add(prefix + property.Name);
            }
        }

        private void ParameterEntry(JsonTree.JsonProperty property, string path, string prefix, SpaceCatalog? catalog, Condition? branch)
        {
            var node = property.Value;
            var name = prefix + property.Name;
            var spec = catalog?.Parameters.FirstOrDefault(p => p.Name == property.Name);
            var branches = catalog is not null && catalog.Branches.TryGetValue(property.Name, out var b) ? b : null;
            if (catalog is not null && spec is null && branches is null)
            {
                Errors.Add(new DefinitionError(path, property.Line, property.Column,
                    DefinitionValidator.UnknownValue($"parameter '{property.Name}' for {catalog.Subject}", property.Name, catalog.Names)));
                return;
            }
            var fields = new Dictionary<string, (string, JsonTree)>(StringComparer.Ordinal) { ["name"] = (path, node) };
            if (node.Kind != JsonKind.Object)
            {
                if (Literal(node, path) is { } literal) Add(new FixedParameter(name, literal) { When = branch }, path, node, fields, spec, branches);
                return;
            }
            foreach (var key in node.Properties.Where(p => !Keys.Contains(p.Name)))
                Errors.Add(new DefinitionError($"{path}.{key.Name}", key.Line, key.Column, DefinitionValidator.UnknownValue($"key '{key.Name}'", key.Name, Keys)));
            var kinds = node.Properties.Where(p => KindKeys.Contains(p.Name)).ToList();
            if (kinds.Count != 1)
            {
                Fail(path, node, kinds.Count == 0
                    ? $"a parameter needs one of {string.Join(", ", KindKeys.Select(k => $"\"{k}\""))} (or is a plain value, which is fixed)"
                    : $"a parameter takes one of {string.Join(", ", KindKeys.Select(k => $"\"{k}\""))}, not {string.Join(" and ", kinds.Select(k => $"\"{k.Name}\""))}");
                return;
            }
            var kind = kinds[0];
            var kindPath = $"{path}.{kind.Name}";
            fields["range"] = fields["values"] = (kindPath, kind.Value);
            foreach (var field in new[] { "log", "step", "lowCost", "when" })
                if (node[field] is { } value) fields[field] = ($"{path}.{field}", value);

            var log = false;
            if (node["log"] is { } logNode)
            {
                if (logNode.Kind is JsonKind.True or JsonKind.False) log = logNode.Kind == JsonKind.True;
                else Fail($"{path}.log", logNode, $"expected true or false, got {logNode.KindName}");
                if (kind.Name is not ("float" or "int")) Fail($"{path}.log", logNode, $"\"log\" applies to \"float\" and \"int\", not \"{kind.Name}\"");
            }
            if (node["step"] is { } stepNode && kind.Name is not ("float" or "int"))
                Fail($"{path}.step", stepNode, $"\"step\" applies to \"float\" and \"int\", not \"{kind.Name}\"");
            if (node["lowCost"] is { } lowNode && kind.Name == "fixed")
                Fail($"{path}.lowCost", lowNode, "a fixed value has no low-cost value of its own");
            var condition = node["when"] is { } whenNode ? When(whenNode, $"{path}.when", prefix, branch) : branch;
            var errorsBefore = Errors.Count;

            SearchParameter? parameter = null;
            switch (kind.Name)
            {
                case "float":
                case "int":
                {
                    var isInt = kind.Name == "int";
                    if (kind.Value.Kind != JsonKind.Array || kind.Value.Items.Count != 2)
                    {
                        Fail(kindPath, kind.Value, $"expected [min, max], got {Shape(kind.Value)}");
                        break;
                    }
                    var bounds = kind.Value.Items.Select((item, k) => Number(item, $"{kindPath}[{k}]", isInt)).ToList();
                    var step = node["step"] is { } s ? Number(s, $"{path}.step", isInt) : null;
                    var low = node["lowCost"] is { } lc ? Number(lc, $"{path}.lowCost", isInt) : null;
                    if (Errors.Count > errorsBefore) break;
                    parameter = isInt
                        ? new IntegerParameter(name, (long)bounds[0]!.Value, (long)bounds[1]!.Value) { Log = log, Step = step is { } st ? (long)st : 1, LowCost = low is { } l ? (long)l : null, When = condition }
                        : new FloatParameter(name, bounds[0]!.Value, bounds[1]!.Value) { Log = log, Step = step, LowCost = low, When = condition };
                    break;
                }
                case "fixed":
                    if (Literal(kind.Value, kindPath) is { } fixedValue) parameter = new FixedParameter(name, fixedValue) { When = condition };
                    break;
                case "choice":
                {
                    object? low = node["lowCost"] is { } lc ? Literal(lc, $"{path}.lowCost") : null;
                    if (kind.Value.Kind == JsonKind.Array)
                    {
                        var values = kind.Value.Items.Select((item, k) => Literal(item, $"{kindPath}[{k}]")).ToList();
                        if (Errors.Count > errorsBefore) break;
                        parameter = new ChoiceParameter(name, values.Select(v => v!).ToList()) { LowCost = low, When = condition };
                    }
                    else if (kind.Value.Kind == JsonKind.Object)
                    {
                        // Each value owns a sub-space whose parameters exist only under it.
                        var values = kind.Value.Properties.Select(p => (object)p.Name).ToList();
                        parameter = new ChoiceParameter(name, values) { LowCost = low, When = condition };
                        foreach (var option in kind.Value.Properties)
                        {
                            var optionPath = $"{kindPath}.{option.Name}";
                            if (option.Name.Contains('.'))
                            {
                                Errors.Add(new DefinitionError(optionPath, option.Line, option.Column, "a value that has a sub-space cannot contain '.' (it becomes part of parameter names)"));
                                continue;
                            }
                            SpaceCatalog? optionCatalog = catalog;
                            if (branches is not null)
                            {
                                if (!branches.TryGetValue(option.Name, out optionCatalog))
                                {
                                    Errors.Add(new DefinitionError(optionPath, option.Line, option.Column,
                                        DefinitionValidator.UnknownValue($"value '{option.Name}' of '{property.Name}'", option.Name, branches.Keys.ToList())));
                                    continue;
                                }
                            }
                            Scope(option.Value, optionPath, $"{name}.{option.Name}.", optionCatalog, new Condition(name, [option.Name]));
                        }
                    }
                    else Fail(kindPath, kind.Value, $"expected an array of values or an object of values with their sub-spaces, got {kind.Value.KindName}");
                    break;
                }
            }
            if (parameter is not null && Errors.Count == errorsBefore) Add(parameter, path, node, fields, spec, branches);
        }

        private void Add(SearchParameter parameter, string path, JsonTree node, Dictionary<string, (string, JsonTree)> fields, ParameterSpec? spec,
            IReadOnlyDictionary<string, SpaceCatalog>? branches)
        {
            if (spec is not null && Fits(parameter, spec) is { } problem) { Fail(fields.TryGetValue("range", out var r) ? r.Item1 : path, fields.TryGetValue("range", out var rn) ? rn.Item2 : node, problem); return; }
            if (branches is not null && spec is null)
            {
                var values = parameter switch { ChoiceParameter c => c.Values, FixedParameter f => [f.Value], _ => null };
                if (values is null) { Fail(path, node, $"'{parameter.Name}' chooses among {string.Join(", ", branches.Keys)}: write it as a \"choice\""); return; }
                foreach (var value in values.Where(v => v is not string s || !branches.ContainsKey(s)))
                {
                    Fail(fields.TryGetValue("values", out var v) ? v.Item1 : path, node,
                        DefinitionValidator.UnknownValue($"value {ParameterValue.Format(value)} of '{parameter.Name}'", value.ToString() ?? "", branches.Keys.ToList()));
                    return;
                }
            }
            Parameters.Add(parameter);
            Locations[parameter.Name] = new Location(path, node, fields);
        }

        private Condition? When(JsonTree node, string path, string prefix, Condition? branch)
        {
            if (node.Kind != JsonKind.Object || node.Properties.Count != 1)
            {
                Fail(path, node, node.Kind == JsonKind.Object
                    ? "a condition names exactly one choice, e.g. { \"solver\": \"sgd\" } (nest choices for more)"
                    : $"expected an object such as {{ \"solver\": \"sgd\" }}, got {node.KindName}");
                return branch;
            }
            var target = node.Properties[0];
            var targetPath = $"{path}.{target.Name}";
            var values = target.Value.Kind == JsonKind.Array
                ? target.Value.Items.Select((item, k) => Literal(item, $"{targetPath}[{k}]")).ToList()
                : [Literal(target.Value, targetPath)];
            if (values.Any(v => v is null)) return branch;
            if (target.Value.Kind == JsonKind.Array && values.Count == 0) { Fail(targetPath, target.Value, "the condition lists no values"); return branch; }
            // Inside a sub-space, names are the sub-space's own (the prefix makes them unique).
            return new Condition(prefix + target.Name, values.Select(v => v!).ToList());
        }

        private double? Number(JsonTree node, string path, bool integer)
        {
            if (node.Kind != JsonKind.Number || (integer && !node.IsIntegerLiteral))
            {
                Fail(path, node, $"expected {(integer ? "an integer" : "a number")}, got {Shape(node)}");
                return null;
            }
            return node.Number;
        }

        private object? Literal(JsonTree node, string path)
        {
            switch (node.Kind)
            {
                case JsonKind.String: return node.Text!;
                case JsonKind.True: return true;
                case JsonKind.False: return false;
                case JsonKind.Number:
                    return node.IsIntegerLiteral && long.TryParse(node.Text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) ? (object)l : node.Number;
                default:
                    Fail(path, node, $"expected a string, number or boolean, got {node.KindName}");
                    return null;
            }
        }

        private static string Shape(JsonTree node) => node.Kind switch
        {
            JsonKind.Array => $"an array of {node.Items.Count}",
            JsonKind.String => $"string \"{node.Text}\"",
            JsonKind.Number => $"{node.KindName} {node.Text}",
            _ => node.KindName,
        };
    }

    /// <summary>Why the parameter does not suit the model's <paramref name="spec"/> (kind, allowed values, range), or null.</summary>
    private static string? Fits(SearchParameter parameter, ParameterSpec spec)
    {
        string Kind() => spec.Kind switch
        {
            ParameterKind.Integer => "an integer",
            ParameterKind.Number => "a number",
            ParameterKind.Boolean => "true or false",
            _ => spec.Allowed is { } allowed ? $"one of {string.Join(", ", allowed)}" : "a string",
        };
        string? Value(object value) => (spec.Kind, value) switch
        {
            (ParameterKind.Integer, long l) => InRange(l),
            (ParameterKind.Number, long or double) => InRange(ParameterValue.ToDouble(value)),
            (ParameterKind.Boolean, bool) => null,
            (ParameterKind.String, string s) when spec.Allowed is null || spec.Allowed.Contains(s) => null,
            _ => $"{ParameterValue.Format(value)} is not a value of '{spec.Name}', which takes {Kind()}",
        };
        string? InRange(double v) =>
            (spec.Min is { } min && v < min) || (spec.Max is { } max && v > max)
                ? $"{v.ToString("R", CultureInfo.InvariantCulture)} is outside what '{spec.Name}' accepts ({Bounds()})"
                : null;
        string Bounds() => (spec.Min, spec.Max) switch
        {
            ({ } lo, { } hi) => $"at least {lo.ToString(CultureInfo.InvariantCulture)} and at most {hi.ToString(CultureInfo.InvariantCulture)}",
            ({ } lo, null) => $"at least {lo.ToString(CultureInfo.InvariantCulture)}",
            (null, { } hi) => $"at most {hi.ToString(CultureInfo.InvariantCulture)}",
            _ => "any value",
        };
        return parameter switch
        {
            FloatParameter when spec.Kind == ParameterKind.Integer => $"'{spec.Name}' takes an integer: write \"int\", not \"float\"",
            FloatParameter or IntegerParameter when spec.Kind is not (ParameterKind.Number or ParameterKind.Integer) => $"'{spec.Name}' takes {Kind()}: write a \"choice\"",
            FloatParameter f => InRange(f.Min) ?? InRange(f.Max),
            IntegerParameter i => InRange(i.Min) ?? InRange(i.Max),
            ChoiceParameter c => c.Values.Select(Value).FirstOrDefault(m => m is not null),
            FixedParameter x => Value(x.Value),
            _ => null,
        };
    }

    /// <summary>The space as JSON in the flat form (full names, conditions as "when") that <see cref="Parse"/> reads back to the same space.</summary>
    public static string Write(SearchSpace space)
    {
        static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        var text = new StringBuilder("{");
        foreach (var p in space.Parameters)
        {
            if (text.Length > 1) text.Append(',');
            text.Append(System.Text.Json.JsonSerializer.Serialize(p.Name)).Append(':');
            var parts = new List<string>();
            switch (p)
            {
                case FloatParameter f:
                    parts.Add($"\"float\":[{F(f.Min)},{F(f.Max)}]");
                    if (f.Log) parts.Add("\"log\":true");
                    if (f.Step is { } step) parts.Add($"\"step\":{F(step)}");
                    if (f.LowCost is { } lowCost) parts.Add($"\"lowCost\":{F(lowCost)}");
                    break;
                case IntegerParameter i:
                    parts.Add($"\"int\":[{i.Min},{i.Max}]");
                    if (i.Log) parts.Add("\"log\":true");
                    if (i.Step != 1) parts.Add($"\"step\":{i.Step}");
                    if (i.LowCost is { } low) parts.Add($"\"lowCost\":{low}");
                    break;
                case ChoiceParameter c:
                    parts.Add($"\"choice\":[{string.Join(",", c.Values.Select(ParameterValue.Format))}]");
                    if (c.LowCost is { } start) parts.Add($"\"lowCost\":{ParameterValue.Format(start)}");
                    break;
                case FixedParameter x:
                    parts.Add($"\"fixed\":{ParameterValue.Format(x.Value)}");
                    break;
            }
            if (p.When is { } w)
                parts.Add($"\"when\":{{{System.Text.Json.JsonSerializer.Serialize(w.Parameter)}:[{string.Join(",", w.Values.Select(ParameterValue.Format))}]}}");
            text.Append('{').Append(string.Join(',', parts)).Append('}');
        }
        return text.Append('}').ToString();
    }
}
