using System.Data.Common;
using Experiments.Core;

namespace Experiments.Store;

/// <summary>What <see cref="RunStore.CopyTo"/> did.</summary>
public sealed record StoreCopyReport(int RunsCopied, int RunsAlreadyThere, int SweepsCopied, int SweepsAlreadyThere);

public abstract partial class RunStore
{
    /// <summary>
    /// A table copied between stores: its id column (renumbered in the target), the columns that refer to other copied
    /// tables (rewritten to the target's ids; a row whose parent was not copied is not copied either), and the columns
    /// that identify a row across stores (a run by its uid, a sweep by its name, start and process), so that copying
    /// twice copies nothing twice. Experiments are matched by name and shared, not skipped. Pointers are references to
    /// rows a row does not belong to (a regression check's reference run): rewritten like references, but a pointed-at
    /// row that was in the target already does not keep the row from being copied.
    /// </summary>
    private sealed record CopiedTable(string Name, string? Id, (string Column, string Table)[] References, string[] Identity, bool Shared = false, string Order = "rowid",
        (string Column, string Table)[]? Pointers = null);

    private static readonly CopiedTable[] CopiedTables =
    [
        new("experiments", "id", [], ["name"], Shared: true),
        new("runs", "id", [("experiment_id", "experiments")], ["uid"]),
        new("trials", "id", [("run_id", "runs")], []),
        new("parameters", null, [("trial_id", "trials")], []),
        new("trial_facts", null, [("trial_id", "trials")], []),
        new("metrics", "id", [("run_id", "runs"), ("trial_id", "trials")], []),
        new("artifacts", "id", [("run_id", "runs"), ("trial_id", "trials")], []),
        new("data_issues", null, [("run_id", "runs")], []),
        new("trial_users", null, [("trial_id", "trials")], []),
        new("user_values", null, [("trial_id", "trials")], []),
        new("comparisons", "id", [("run_id", "runs")], []),
        new("curves", "id", [("run_id", "runs"), ("trial_id", "trials")], []),
        new("data_profile", null, [("run_id", "runs")], []),
        new("regression_checks", null, [("run_id", "runs")], [], Pointers: [("against_run", "runs")]),
        new("regression_tests", null, [("run_id", "runs")], []),
        new("sweeps", "id", [("run_id", "runs")], ["name", "created_at", "host", "pid"]),
        new("sweep_trials", null, [("sweep_id", "sweeps")], []),
        new("sweep_parameters", null, [("sweep_id", "sweeps")], []),
        new("sweep_intermediate", null, [("sweep_id", "sweeps")], []),
        new("sweep_metrics", null, [("sweep_id", "sweeps")], []),
    ];

    /// <summary>
    /// Copies every run (its trials, metrics, per-user values, comparisons, curves, data profile, regression check,
    /// artifacts' records, data checks) and every sweep (its trials, parameters, intermediate values, metrics) into <paramref name="target"/>, in one transaction
    /// there: ids are renumbered, everything else — statuses, times, hosts, uids — is kept. Runs and sweeps the target
    /// already has (an earlier copy) are skipped, so a copy can be repeated to bring the target up to date.
    /// </summary>
    public StoreCopyReport CopyTo(RunStore target)
    {
        if (ReferenceEquals(target, this) || target.Location == Location) throw new ExperimentsException($"Cannot copy the run store {Location} into itself.");
        if (_version < Migrations.All.Length)
            throw new ExperimentsException($"The run store {Location} has schema version {_version}, older than this program's ({Migrations.All.Length}), and is read-only here; open it writable once (e.g. `experiments list --store {Location}`) to bring it up to date, then copy it.");
        var tables = Read(() => CopiedTables.Select(t => (Table: t, Rows: ReadRows(t))).ToList());
        return target.Write(transaction =>
        {
            var ids = CopiedTables.ToDictionary(t => t.Name, _ => new Dictionary<long, long>());
            // Rows the target had already (by identity): their own rows are not copied again, but a row with an
            // identity of its own (a sweep of a run copied before) is still matched, and copied if it is new.
            var there = CopiedTables.ToDictionary(t => t.Name, _ => new HashSet<long>());
            var copied = CopiedTables.ToDictionary(t => t.Name, _ => 0);
            foreach (var (table, rows) in tables)
                foreach (var row in rows)
                {
                    if (!Rewrite(table, row, ids, there)) continue;
                    if (table.Identity.Length > 0 && target.Find(transaction, table, row) is { } existing)
                    {
                        var id = Convert.ToInt64(row[table.Id!]);
                        ids[table.Name][id] = existing;
                        if (!table.Shared) there[table.Name].Add(id);
                        continue;
                    }
                    var columns = row.Keys.Where(c => c != table.Id).ToList();
                    var sql = $"INSERT INTO {table.Name}({string.Join(", ", columns)}) VALUES ({string.Join(", ", columns.Select((_, i) => $"$p{i}"))})"
                              + (table.Id is null ? "" : $" RETURNING {table.Id}");
                    var values = columns.Select((c, i) => ($"$p{i}", row[c])).ToArray();
                    if (table.Id is null) target.Exec(transaction, sql, values);
                    else ids[table.Name][Convert.ToInt64(row[table.Id])] = Convert.ToInt64(target.Scalar(transaction, sql, values));
                    copied[table.Name]++;
                }
            return new StoreCopyReport(copied["runs"], there["runs"].Count, copied["sweeps"], there["sweeps"].Count);
        });
    }

    private List<Dictionary<string, object?>> ReadRows(CopiedTable table)
    {
        var rows = new List<Dictionary<string, object?>>();
        using var command = Command(null, $"SELECT * FROM {table.Name} ORDER BY {table.Id ?? table.Order}");
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var row = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (var i = 0; i < reader.FieldCount; i++) row[reader.GetName(i)] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>Points the row's references and pointers at the target's ids; false when a parent was not copied, or was there already and the row is one of its own.</summary>
    private static bool Rewrite(CopiedTable table, Dictionary<string, object?> row, Dictionary<string, Dictionary<long, long>> ids, Dictionary<string, HashSet<long>> there)
    {
        foreach (var (column, parent) in table.References)
        {
            if (row[column] is not { } value) continue;
            var id = Convert.ToInt64(value);
            if (!ids[parent].TryGetValue(id, out var mapped) || (there[parent].Contains(id) && table.Identity.Length == 0)) return false;
            row[column] = mapped;
        }
        foreach (var (column, pointed) in table.Pointers ?? [])
            if (row[column] is { } value)
                row[column] = ids[pointed].TryGetValue(Convert.ToInt64(value), out var mapped) ? mapped : null;
        return true;
    }

    private long? Find(DbTransaction transaction, CopiedTable table, Dictionary<string, object?> row)
    {
        var where = string.Join(" AND ", table.Identity.Select((c, i) => $"{c} = $k{i}"));
        var found = Scalar(transaction, $"SELECT {table.Id} FROM {table.Name} WHERE {where}", table.Identity.Select((c, i) => ($"$k{i}", row[c])).ToArray());
        return found is null or DBNull ? null : Convert.ToInt64(found);
    }
}
