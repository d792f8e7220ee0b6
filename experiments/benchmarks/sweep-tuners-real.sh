#!/usr/bin/env bash
# Tuner efficiency on real problems (sweep issue): each definition swept once per seed and tuner, seeds outermost and
# tuners interleaved within a seed (so the tuners share the machine's load), one trial at a time; every sweep's JSON
# result goes to OUT/<definition>-<tuner>-<seed>.json and its trials to OUT/sweeps.db. Summarise with
# experiments/benchmarks/sweep-tuners-summary.py OUT.
# Usage: experiments/benchmarks/sweep-tuners-real.sh OUT "random cfo tpe" "1 2 3 4 5" TRIALS DEFINITION...
# The CLI: $EXPERIMENTS_CLI (e.g. "dotnet /tmp/bench/experiments.dll"), else `dotnet run --no-build` of this checkout.
set -euo pipefail
out=$1; tuners=$2; seeds=$3; trials=$4; shift 4
cli=${EXPERIMENTS_CLI:-dotnet run --project src/Experiments.Cli -c Release --no-build --}
mkdir -p "$out"
for definition in "$@"; do
  name=$(basename "$definition" .json)
  for seed in $seeds; do
    for tuner in $tuners; do
      result="$out/$name-$tuner-$seed.json"
      [ -s "$result" ] && continue   # finished by an earlier, interrupted invocation
      echo "$(date -u +%H:%M:%S) $name $tuner seed $seed" >&2
      $cli sweep "$definition" --tuner "$tuner" --seed "$seed" --trials "$trials" --parallel 1 \
        --store "$out/sweeps.db" --reports "$out/reports" --json > "$result.part"
      mv "$result.part" "$result"
    done
  done
done
