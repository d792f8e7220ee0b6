#!/usr/bin/env bash
# Report rendering at scale (issue 13): a run of 50 models × 10 metrics on the demo shop, then each report format
# written from the store (wall time of `experiments report`, process start included), and the HTML opened in headless
# Chromium (wall time of --dump-dom, with the network cut off; CPU time with its child processes). Usage: experiments/benchmarks/report-render.sh [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/../.."
repeats="${1:-3}"
cli=src/Experiments.Cli/bin/Release/net10.0/experiments
[ -x "$cli" ] || dotnet build -c Release src/Experiments.Cli -v quiet -nologo
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
models=$(for n in $(seq 5 5 250); do printf '{ "type": "item-knn", "name": "knn-%s", "parameters": { "neighbours": %s } },' "$n" "$n"; done)
cat > "$work/fifty.json" <<JSON
{
  "name": "fifty-models", "task": "ranking",
  "dataset": { "name": "demo-shop", "options": { "users": 400, "items": 300, "seed": 5 } },
  "split": { "method": "stratified", "testFraction": 0.2 },
  "models": [ { "type": "random" }, ${models%,} ],
  "metrics": ["ndcg@10", "hit-rate@10", "precision@10", "recall@10", "map@10", "mrr@10", "coverage@10", "diversity@10", "novelty@10", "ndcg@5"],
  "evaluation": { "bootstrapSamples": 100 },
  "seed": 1,
  "output": { "store": "$work/runs.db", "reports": "$work/reports", "formats": ["json"] }
}
JSON
"$cli" run "$work/fifty.json" --quiet >/dev/null
run=$("$cli" list --store "$work/runs.db" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
source experiments/benchmarks/report-timing.sh
time_reports "$work" "$repeats" report.html "$cli" report "$run" --store "$work/runs.db"
