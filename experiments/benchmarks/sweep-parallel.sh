#!/usr/bin/env bash
# Parallel speed-up for cheap trials and the per-trial overhead of the driver and the SQLite store: the definition's
# sweep run with --parallel 1 and 2, interleaved (1 2 1 2 …) so both see the same load. Per run: the sweep's wall
# seconds, the summed seconds inside the trials, and (wall − Σ trial seconds · 1/p) / trials — what a trial costs
# beyond its objective: proposing, two committed writes to the store, the progress line.
# Usage: experiments/benchmarks/sweep-parallel.sh DEFINITION [repetitions]
set -euo pipefail
definition=$1; repetitions=${2:-3}
out=$(mktemp -d)
echo "| parallel | repetition | trials | sweep wall s | Σ trial s | overhead per trial (ms) |"
echo "|---:|---:|---:|---:|---:|---:|"
for r in $(seq "$repetitions"); do
  for p in 1 2; do
    db="$out/p$p-$r.db"
    dotnet run --project src/Experiments.Cli -c Release --no-build -- sweep "$definition" --parallel "$p" --store "$db" --reports "$out/reports" --json > "$out/p$p-$r.json"
    /usr/bin/python3 - "$out/p$p-$r.json" "$db" "$p" "$r" <<'PY'
import json, sqlite3, sys
path, db, p, r = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
result = json.load(open(path))
seconds = [row[0] for row in sqlite3.connect(db).execute("select seconds from sweep_trials where sweep_id = ?", (result["sweepId"],))]
wall, inside = result["elapsedSeconds"], sum(seconds)
print(f"| {p} | {r} | {len(seconds)} | {wall:.2f} | {inside:.2f} | {1000 * (wall - inside / p) / len(seconds):.1f} |", flush=True)
PY
  done
done
