#!/usr/bin/env bash
# Trials per minute on the cluster with 1, 2 and 4 workers (one slot each) for cheap trials: a private PostgreSQL
# (Debian's postgresql, a temporary folder, as the user postgres when run as root), a fresh schema per round,
# `experiments worker` processes, and `experiments cluster sweep` (random search on Branin; each trial sleeps
# SLEEP_MS). Usage: experiments/benchmarks/cluster-throughput.sh [TRIALS] [SLEEP_MS...]   (defaults: 60, "0 200")
# Needs a Release build: dotnet build -c Release src/Experiments.Cli
set -euo pipefail
cd "$(dirname "$0")/../.."
trials=${1:-60}
shift || true
sleeps=${*:-0 200}
cli=src/Experiments.Cli/bin/Release/net10.0/experiments.dll
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
folder=$(mktemp -d /tmp/experiments-bench-pg.XXXXXX)
port=$((20000 + RANDOM % 20000))
as=()
if [ "$(id -u)" = 0 ]; then chown postgres "$folder"; as=(runuser -u postgres --); fi
"${as[@]}" "$bin/initdb" -D "$folder/data" -U experiments --auth=trust --no-sync >/dev/null
# fsync on: the figures are those of a server that keeps what it commits.
"${as[@]}" "$bin/pg_ctl" -D "$folder/data" -l "$folder/log" -w start -o "-p $port -k $folder -c listen_addresses=127.0.0.1" >/dev/null
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  "${as[@]}" "$bin/pg_ctl" -D "$folder/data" -m fast -w stop >/dev/null || true
  rm -rf "$folder"
}
trap cleanup EXIT
for sleep in $sleeps; do
  for workers in 1 2 4; do
    schema="bench_${sleep}_${workers}"
    "$bin/psql" -q -h 127.0.0.1 -p "$port" -U experiments -d postgres -c "CREATE SCHEMA $schema" >/dev/null
    cluster="postgres://experiments@127.0.0.1:$port/postgres?search_path=$schema"
    pids=()
    for _ in $(seq "$workers"); do
      dotnet "$cli" worker --cluster "$cluster" --slots 1 --address 127.0.0.1 --quiet & pids+=($!)
    done
    # Wait until every worker has reported to the coordinator.
    for _ in $(seq 120); do
      n=$(dotnet "$cli" cluster status --cluster "$cluster" --json 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["workers"]))' 2>/dev/null || echo 0)
      [ "$n" -ge "$workers" ] && break
      sleep 1
    done
    result=$(dotnet "$cli" cluster sweep --cluster "$cluster" --trials "$trials" --sleep-ms "$sleep" --json)
    echo "$result" | python3 -c "import json,sys; r=json.load(sys.stdin); print(f'sleep {$sleep} ms, {$workers} workers: {r[\"trials\"]} trials in {r[\"seconds\"]:.1f} s = {r[\"trialsPerMinute\"]:.0f} trials/min')"
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  done
done
