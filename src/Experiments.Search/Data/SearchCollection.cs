using Experiments.Core;
using Experiments.Datasets;
using Experiments.Datasets.Loading;
using Experiments.Datasets.Manifests;

namespace Experiments.Search.Data;

/// <summary>
/// A product search collection: the catalogue (absent for intent-only data such as WANDS), the queries, and their
/// judgements (absent when only intents are known). Query and product indices are positions in these lists.
/// </summary>
public sealed record SearchCollection(ProductCatalogue? Catalogue, IReadOnlyList<SearchQuery> Queries, Judgements? Judgements, string Description)
{
    /// <summary>The intent classes (sorted), from the queries' intents; empty when no query has one.</summary>
    public IReadOnlyList<string> Intents { get; } = Queries.Select(q => q.Intent).OfType<string>().Where(i => i.Length > 0).Distinct().Order(StringComparer.Ordinal).ToList();

    /// <summary>Each query's intent as a code (queries without one share a code), for splits stratified by intent.</summary>
    public int[] IntentCodes() => Codes(Queries.Select(q => q.Intent ?? "").ToArray());

    /// <summary>
    /// Loads the collection that <paramref name="manifest"/> describes from <paramref name="dataset"/>'s tables, with
    /// judgements from <paramref name="source"/> (a judgement table, a click log, or the catalogue's groups; default: the
    /// first the manifest lists). Queries without any relevant product are dropped (a data check records how many).
    /// With <paramref name="maxQueries"/> &gt; 0 a seeded sample of that many queries is kept.
    /// </summary>
    public static SearchCollection Load(Dataset dataset, SearchManifest manifest, string? source, int maxQueries, int seed)
    {
        var checks = dataset.Checks;
        var catalogue = manifest.Catalogue is { } c ? ProductCatalogue.From(dataset.Table(c), checks) : null;
        source ??= manifest.JudgementSources.FirstOrDefault();
        if (source is not null && !manifest.JudgementSources.Contains(source))
            throw new ExperimentsException(Core.Definitions.DefinitionValidator.UnknownValue($"judgement source '{source}' of '{dataset.Name}'", source, manifest.JudgementSources.ToList()));
        if (source == SearchManifest.CatalogueGroups)
            return Sample(FromCatalogueGroups(catalogue!, manifest), maxQueries, seed, checks);
        if (manifest.QueriesFromJudgements && source is not null && catalogue is not null && manifest.Judgements.Contains(source))
        {
            var (asked, listed) = ReadQueriesAndJudgements(dataset.Table(source), catalogue, checks);
            return Judged(catalogue, asked, listed, $"graded judgements from '{source}' (its distinct query texts are the queries)", source, maxQueries, seed, checks);
        }
        // Own files' click log: its distinct query texts are the queries (no queries table).
        var fromClicks = manifest.QueriesFromJudgements && source is not null && catalogue is not null;
        var queries = fromClicks ? QueriesOf(dataset.Table(source!))
            : manifest.Queries is { } q ? ReadQueries(dataset.Table(q), checks)
            : throw new ExperimentsException($"Data set '{dataset.Name}' names no queries table in its search manifest.");
        if (source is null || catalogue is null)
            return Sample(new SearchCollection(catalogue, queries, null, $"{queries.Count:N0} queries{(catalogue is null ? "" : $", {catalogue.Count:N0} products")}, no judgements"), maxQueries, seed, checks);
        var queryIndex = queries.Select((x, i) => (x.Id, i)).ToDictionary(x => x.Id, x => x.i, StringComparer.Ordinal);
        Judgements judgements;
        string how;
        if (manifest.Judgements.Contains(source))
        {
            judgements = ReadJudgements(dataset.Table(source), queryIndex, catalogue, checks);
            how = $"graded judgements from '{source}'";
        }
        else
        {
            var fit = ClickJudgements.Derive(ReadClicks(dataset.Table(source), queryIndex, catalogue, checks), queries.Count);
            judgements = fit.Judgements;
            how = $"judgements derived from the clicks of '{source}'{(fromClicks ? " (its distinct query texts are the queries)" : "")} by the position-based click model (examination θ_p/θ_1: {string.Join(", ", fit.Examination.Take(10).Select(t => t.ToString("F2", System.Globalization.CultureInfo.InvariantCulture)))})";
        }
        return Judged(catalogue, queries, judgements, how, fromClicks ? source : manifest.Queries!, maxQueries, seed, checks);
    }

    /// <summary>The distinct query texts of a click log, in order of first appearance, each a query whose id is its text.</summary>
    private static List<SearchQuery> QueriesOf(Table clicks)
    {
        var query = Column(clicks, "query");
        return Enumerable.Range(0, clicks.RowCount).Select(r => ProductCatalogue.Text(query, r)).Where(t => t.Length > 0).Distinct(StringComparer.Ordinal)
            .Select(t => new SearchQuery(t, t, null)).ToList();
    }

    /// <summary>The collection of the queries that have a relevant product (a data check counts the others), sampled.</summary>
    private static SearchCollection Judged(ProductCatalogue catalogue, IReadOnlyList<SearchQuery> queries, Judgements judgements, string how, string queriesTable, int maxQueries, int seed, DataCheckReport checks)
    {
        var judged = Enumerable.Range(0, queries.Count).Where(i => judgements.CountAtLeast(i, double.Epsilon) > 0).ToList();
        if (judged.Count == 0)
            throw new ExperimentsException($"No query of {queriesTable} has a product with a grade above 0, so there is nothing to rank for; check the relevance column.");
        if (judged.Count < queries.Count)
            checks.Note(queriesTable, 0, "queries without a relevant product (left out)", $"{queries.Count - judged.Count} of {queries.Count:N0} queries have no product with a grade above 0");
        var collection = new SearchCollection(catalogue, queries, judgements, $"{catalogue.Count:N0} products, {how}");
        return Sample(collection, maxQueries, seed, checks, judged);
    }

    /// <summary>
    /// Queries and their graded judgements from one table (query text, product, relevance, optionally the query's
    /// intent): rows with the same query text are one query (its id is the text). A product not in the catalogue, a
    /// grade that is not a number ≥ 0, or an intent that differs from the query's earlier one is a bad row.
    /// </summary>
    private static (List<SearchQuery> Queries, ListedJudgements Judgements) ReadQueriesAndJudgements(Table table, ProductCatalogue catalogue, DataCheckReport checks)
    {
        var (query, product, grade) = (Column(table, "query"), Column(table, "item"), Column(table, "relevance"));
        if (grade.Numbers is null) throw new ExperimentsException($"Judgements table '{table.Name}': the relevance column '{grade.Name}' must be numeric.");
        var intent = table.WithRole("label");
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var intents = new List<(string? Intent, long Line)>();
        var grades = new List<Dictionary<int, double>>();
        for (var r = 0; r < table.RowCount; r++)
        {
            var (text, id, line) = (ProductCatalogue.Text(query, r).Trim(), ProductCatalogue.Text(product, r), table.SourceLines[r]);
            var g = grade.Numbers[r];
            if (text.Length == 0) { checks.BadRow(table.Source, line, query.Name, "missing value: every judgement needs a query"); continue; }
            if (catalogue.IndexOf(id) is not { } p) { checks.BadRow(table.Source, line, product.Name, $"unknown product '{id}': it is not in the catalogue ({catalogue.Source})"); continue; }
            if (!(g >= 0 && double.IsFinite(g))) { checks.BadRow(table.Source, line, grade.Name, $"a grade must be a number ≥ 0, not '{(double.IsNaN(g) ? "" : g)}'"); continue; }
            var asked = intent is null ? null : ProductCatalogue.Text(intent, r) is { Length: > 0 } i ? i : null;
            if (index.TryGetValue(text, out var q))
            {
                if (asked is not null && intents[q].Intent is { } earlier && earlier != asked)
                {
                    checks.BadRow(table.Source, line, intent!.Name, $"query '{text}' has intent '{earlier}' on line {intents[q].Line}, here '{asked}'; a query has one intent");
                    continue;
                }
                if (intents[q].Intent is null && asked is not null) intents[q] = (asked, line);
            }
            else
            {
                index[text] = q = index.Count;
                intents.Add((asked, line));
                grades.Add([]);
            }
            if (grades[q].TryGetValue(p, out var before) && before != g)
                checks.Note(table.Source, line, "conflicting judgements (highest kept)", $"query '{text}', product '{id}': {before} and {g}");
            grades[q][p] = Math.Max(g, before);
        }
        if (index.Count == 0) throw new ExperimentsException($"Judgements table '{table.Name}' ({table.Source}) has no usable judgement.");
        var queries = index.OrderBy(x => x.Value).Select(x => new SearchQuery(x.Key, x.Key, intents[x.Value].Intent)).ToList();
        return (queries, new ListedJudgements(grades.ToArray()));
    }

    /// <summary>The same collection restricted to <paramref name="keep"/> (or a seeded sample of it), judgements re-indexed.</summary>
    private static SearchCollection Sample(SearchCollection all, int maxQueries, int seed, DataCheckReport checks, IReadOnlyList<int>? keep = null)
    {
        var rows = (keep ?? Enumerable.Range(0, all.Queries.Count).ToList()).ToArray();
        if (maxQueries > 0 && rows.Length > maxQueries)
        {
            new Random(seed).Shuffle(rows);
            rows = rows.Take(maxQueries).Order().ToArray();
        }
        if (rows.Length == all.Queries.Count) return all;
        return all with
        {
            Queries = rows.Select(r => all.Queries[r]).ToList(),
            Judgements = all.Judgements is null ? null : new SubsetJudgements(all.Judgements, rows),
            Description = $"{all.Description}; {rows.Length:N0} of {all.Queries.Count:N0} queries{(maxQueries > 0 && rows.Length == maxQueries ? $" (seeded sample, maxQueries {maxQueries})" : "")}",
        };
    }

    private static SearchCollection FromCatalogueGroups(ProductCatalogue catalogue, SearchManifest manifest)
    {
        if (catalogue.Groups is null) throw new ExperimentsException($"Catalogue {catalogue.Source} has no column with role 'group', so its entries cannot be queries for each other.");
        var groups = Codes(catalogue.Groups);
        var categories = Codes(catalogue.Categories);
        var sizes = new int[groups.Max() + 1];
        foreach (var g in groups) sizes[g]++;
        // One query per group with at least two entries (its first entry), so no product group is asked for twice and
        // a split by query is also a split by group.
        var first = new HashSet<int>();
        var queryProducts = Enumerable.Range(0, catalogue.Count).Where(p => sizes[groups[p]] > 1 && first.Add(groups[p])).ToArray();
        var queries = queryProducts.Select(p => new SearchQuery(catalogue.Ids[p], catalogue.Titles[p], catalogue.Categories[p] is { Length: > 0 } intent ? intent : null, p)).ToList();
        return new SearchCollection(catalogue, queries, new GroupJudgements(queryProducts, groups, categories, manifest.GroupGrade, manifest.CategoryGrade),
            $"{catalogue.Count:N0} products; each group with several entries gives one query (its first entry's title, the entry itself excluded): same group grade {manifest.GroupGrade}, same category grade {manifest.CategoryGrade}");
    }

    private static List<SearchQuery> ReadQueries(Table table, DataCheckReport checks)
    {
        var id = table.WithRole("id") ?? table.Columns[0];
        var text = table.WithRole("text") ?? throw new ExperimentsException($"Queries table '{table.Name}' ({table.Source}) has no column with role 'text' (the query).");
        var intent = table.WithRole("label");
        var queries = new List<SearchQuery>();
        var seen = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var r = 0; r < table.RowCount; r++)
        {
            var (key, words) = (ProductCatalogue.Text(id, r), ProductCatalogue.Text(text, r));
            if (key.Length == 0 || words.Length == 0) { checks.BadRow(table.Source, table.SourceLines[r], key.Length == 0 ? id.Name : text.Name, "missing value: every query needs an id and a text"); continue; }
            if (!seen.TryAdd(key, table.SourceLines[r])) { checks.BadRow(table.Source, table.SourceLines[r], id.Name, $"duplicate query id: '{key}' is already on line {seen[key]}"); continue; }
            queries.Add(new SearchQuery(key, words, intent is null ? null : ProductCatalogue.Text(intent, r) is { Length: > 0 } i ? i : null));
        }
        if (queries.Count == 0) throw new ExperimentsException($"Queries table '{table.Name}' ({table.Source}) has no usable query.");
        return queries;
    }

    private static ListedJudgements ReadJudgements(Table table, Dictionary<string, int> queries, ProductCatalogue catalogue, DataCheckReport checks)
    {
        var (query, product) = (Column(table, "query"), Column(table, "item"));
        var grade = Column(table, "relevance");
        if (grade.Numbers is null) throw new ExperimentsException($"Judgements table '{table.Name}': the relevance column '{grade.Name}' must be numeric.");
        var grades = Enumerable.Range(0, queries.Count).Select(_ => new Dictionary<int, double>()).ToArray();
        foreach (var (q, p, r) in Rows(table, query, product, queries, catalogue, checks))
        {
            var g = grade.Numbers[r];
            if (!(g >= 0)) { checks.BadRow(table.Source, table.SourceLines[r], grade.Name, $"a grade must be a number ≥ 0, not '{(double.IsNaN(g) ? "" : g)}'"); continue; }
            if (grades[q].TryGetValue(p, out var earlier) && earlier != g)
                checks.Note(table.Source, table.SourceLines[r], "conflicting judgements (highest kept)", $"query '{ProductCatalogue.Text(query, r)}', product '{ProductCatalogue.Text(product, r)}': {earlier} and {g}");
            grades[q][p] = Math.Max(g, earlier);
        }
        return new ListedJudgements(grades);
    }

    private static List<Impression> ReadClicks(Table table, Dictionary<string, int> queries, ProductCatalogue catalogue, DataCheckReport checks)
    {
        var (query, product) = (Column(table, "query"), Column(table, "item"));
        var position = table.Columns.FirstOrDefault(c => c.Manifest.Role == "position" || c.Name == "position")
                       ?? throw new ExperimentsException($"Click log '{table.Name}' has no column with role 'position'.");
        var clicked = Column(table, "clicked");
        if (position.Numbers is null) throw new ExperimentsException($"Click log '{table.Name}': the position column '{position.Name}' must be numeric.");
        var log = new List<Impression>();
        foreach (var (q, p, r) in Rows(table, query, product, queries, catalogue, checks))
        {
            var at = position.Numbers[r];
            if (!(at >= 1 && at == Math.Floor(at))) { checks.BadRow(table.Source, table.SourceLines[r], position.Name, $"a position must be a whole number ≥ 1, not '{(double.IsNaN(at) ? "" : at)}'"); continue; }
            var click = ProductCatalogue.Text(clicked, r);
            if (click is not ("0" or "1")) { checks.BadRow(table.Source, table.SourceLines[r], clicked.Name, $"clicked must be 0 or 1, not '{click}'"); continue; }
            log.Add(new Impression(q, p, (int)at, click == "1"));
        }
        return log;
    }

    /// <summary>The rows whose query and product are known; others are bad rows (failed or skipped by policy).</summary>
    private static IEnumerable<(int Query, int Product, int Row)> Rows(Table table, TableColumn query, TableColumn product, Dictionary<string, int> queries, ProductCatalogue catalogue, DataCheckReport checks)
    {
        for (var r = 0; r < table.RowCount; r++)
        {
            var (q, p) = (ProductCatalogue.Text(query, r), ProductCatalogue.Text(product, r));
            if (!queries.TryGetValue(q, out var qi)) { checks.BadRow(table.Source, table.SourceLines[r], query.Name, $"unknown query '{q}': it is not in the queries table"); continue; }
            if (catalogue.IndexOf(p) is not { } pi) { checks.BadRow(table.Source, table.SourceLines[r], product.Name, $"unknown product '{p}': it is not in the catalogue"); continue; }
            yield return (qi, pi, r);
        }
    }

    private static TableColumn Column(Table table, string role) => table.WithRole(role)
        ?? throw new ExperimentsException($"Table '{table.Name}' ({table.Source}) has no column with role '{role}'; its columns: {string.Join(", ", table.Columns.Select(c => $"{c.Name} ({c.Manifest.Role ?? "no role"})"))}.");

    private static int[] Codes(string[] values)
    {
        var codes = new Dictionary<string, int>(StringComparer.Ordinal);
        return values.Select(v => codes.TryGetValue(v, out var c) ? c : codes[v] = codes.Count).ToArray();
    }

    /// <summary>Judgements of a subset of queries: query i here is query rows[i] there.</summary>
    private sealed class SubsetJudgements(Judgements inner, int[] rows) : Judgements
    {
        public override double Grade(int query, int product) => inner.Grade(rows[query], product);
        public override double[] BestGrades(int query, int count) => inner.BestGrades(rows[query], count);
        public override int CountAtLeast(int query, double threshold) => inner.CountAtLeast(rows[query], threshold);
        public override IReadOnlyList<(int Product, double Grade)> Best(int query, int count) => inner.Best(rows[query], count);
    }
}
