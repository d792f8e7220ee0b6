#!/usr/bin/env bash
# Tuner efficiency on a real sweep: runs one sweep definition once per seed and tuner (tuners interleaved, so they
# share the machine's load) and prints, as each finishes, its best validation value after 5, 10 and N trials, the
# sweep's wall seconds and the refit's test value.
# Usage: experiments/benchmarks/sweep-tuners.sh DEFINITION "random tpe cfo blendsearch" "1 2" [trials]
set -euo pipefail
definition=$1; tuners=$2; seeds=$3; trials=${4:-20}
out=$(mktemp -d)
echo "| tuner | seed | best after 5 | after 10 | after $trials | sweep wall seconds | refit test value |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for seed in $seeds; do
  for tuner in $tuners; do
    dotnet run --project src/Experiments.Cli -c Release --no-build -- sweep "$definition" --tuner "$tuner" --seed "$seed" --trials "$trials" \
      --store "$out/sweeps.db" --reports "$out/reports" --json > "$out/$tuner-$seed.json"
    /usr/bin/python3 - "$out/$tuner-$seed.json" "$tuner" "$seed" "$trials" <<'PY'
import json, sys
path, tuner, seed, trials = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
r = json.load(open(path))
best = {h["number"] + 1: h["best"] for h in r["history"]}
test = r["refit"][0]["metrics"][0]["value"] if r["refit"] else float("nan")
cells = " | ".join(f"{best[n]:.4f}" if best.get(n) is not None else "—" for n in (5, 10, trials))
print(f"| {tuner} | {seed} | {cells} | {r['elapsedSeconds']:.0f} | {test:.4f} |", flush=True)
PY
  done
done
