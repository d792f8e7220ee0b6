namespace Experiments.Search.Data;

/// <summary>A search query: its id, text, the category it asks for (its intent, when known) and a product excluded from its results.</summary>
public sealed record SearchQuery(string Id, string Text, string? Intent = null, int Excluded = -1);

/// <summary>
/// Graded relevance of products for queries (0 = not relevant), indexed by the collection's query and product
/// indices. Evaluation reads a ranked list's grades, the ideal ordering's best grades and how many products reach a
/// grade; training reads the best-graded products of a query.
/// </summary>
public abstract class Judgements
{
    public abstract double Grade(int query, int product);

    /// <summary>The query's <paramref name="count"/> best grades (all &gt; 0), best first: the ideal ranking's gains.</summary>
    public abstract double[] BestGrades(int query, int count);

    /// <summary>How many products have a grade of at least <paramref name="threshold"/> (&gt; 0) for the query.</summary>
    public abstract int CountAtLeast(int query, double threshold);

    /// <summary>Up to <paramref name="count"/> of the query's best-graded products (grade &gt; 0), best first.</summary>
    public abstract IReadOnlyList<(int Product, double Grade)> Best(int query, int count);
}

/// <summary>Judgements listed product by product (assessors' grades, or grades derived from clicks).</summary>
public sealed class ListedJudgements : Judgements
{
    private readonly Dictionary<int, double>[] _grades;
    private readonly (int Product, double Grade)[][] _sorted;

    /// <param name="grades">Per query: product → grade; grades ≤ 0 are dropped.</param>
    public ListedJudgements(IReadOnlyList<IReadOnlyDictionary<int, double>> grades)
    {
        _grades = grades.Select(g => g.Where(p => p.Value > 0).ToDictionary(p => p.Key, p => p.Value)).ToArray();
        _sorted = _grades.Select(g => g.OrderByDescending(p => p.Value).ThenBy(p => p.Key).Select(p => (p.Key, p.Value)).ToArray()).ToArray();
    }

    public override double Grade(int query, int product) => _grades[query].GetValueOrDefault(product);

    public override double[] BestGrades(int query, int count) => _sorted[query].Take(count).Select(p => p.Grade).ToArray();

    public override int CountAtLeast(int query, double threshold) => _sorted[query].Count(p => p.Grade >= threshold);

    public override IReadOnlyList<(int Product, double Grade)> Best(int query, int count) => _sorted[query].Take(count).ToArray();
}

/// <summary>
/// Judgements implied by the catalogue (PriceRunner): a query is one of the catalogue's entries; the other entries of
/// its group are relevant with <see cref="GroupGrade"/>, other entries of its category with <see cref="CategoryGrade"/>,
/// and the entry itself is excluded. Nothing is listed, so a category of thousands of entries costs nothing.
/// </summary>
public sealed class GroupJudgements : Judgements
{
    private readonly int[] _queryProduct;
    private readonly int[] _group;
    private readonly int[] _category;
    private readonly int[][] _members;
    private readonly int[] _categorySize;

    public GroupJudgements(int[] queryProduct, int[] productGroup, int[] productCategory, double groupGrade, double categoryGrade)
    {
        (_queryProduct, _group, _category, GroupGrade, CategoryGrade) = (queryProduct, productGroup, productCategory, groupGrade, categoryGrade);
        _members = new int[productGroup.Length == 0 ? 0 : productGroup.Max() + 1][];
        foreach (var g in Enumerable.Range(0, productGroup.Length).GroupBy(p => productGroup[p])) _members[g.Key] = g.ToArray();
        _categorySize = new int[productCategory.Length == 0 ? 0 : productCategory.Max() + 1];
        foreach (var c in productCategory) _categorySize[c]++;
    }

    public double GroupGrade { get; }
    public double CategoryGrade { get; }

    public override double Grade(int query, int product)
    {
        var own = _queryProduct[query];
        if (product == own) return 0;
        if (_group[product] == _group[own]) return GroupGrade;
        return _category[product] == _category[own] ? CategoryGrade : 0;
    }

    private (int Group, int Category) Counts(int query)
    {
        var own = _queryProduct[query];
        var group = _members[_group[own]].Length - 1;
        // Group members of another category (rare in real data) count with the group, not the category.
        var sameCategoryInGroup = _members[_group[own]].Count(p => p != own && _category[p] == _category[own]);
        return (group, _categorySize[_category[own]] - 1 - sameCategoryInGroup);
    }

    public override double[] BestGrades(int query, int count)
    {
        var (group, category) = Counts(query);
        var (high, low) = GroupGrade >= CategoryGrade ? ((GroupGrade, group), (CategoryGrade, category)) : ((CategoryGrade, category), (GroupGrade, group));
        return Enumerable.Repeat(high.Item1, high.Item2).Concat(Enumerable.Repeat(low.Item1, low.Item2)).Where(g => g > 0).Take(count).ToArray();
    }

    public override int CountAtLeast(int query, double threshold)
    {
        var (group, category) = Counts(query);
        return (GroupGrade >= threshold ? group : 0) + (CategoryGrade >= threshold ? category : 0);
    }

    public override IReadOnlyList<(int Product, double Grade)> Best(int query, int count)
    {
        var own = _queryProduct[query];
        return _members[_group[own]].Where(p => p != own).Select(p => (p, GroupGrade)).Take(count).ToArray();
    }
}
