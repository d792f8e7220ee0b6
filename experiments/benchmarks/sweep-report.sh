#!/usr/bin/env bash
# A 500-trial sweep's report (issue 13): experiments/benchmarks/sweep-cheap-trials.json swept for 500 trials (user and
# item biases on the SYNTHETIC demo shop's ratings, random tuner, 2 at a time) into a SQLite store, then the sweep's
# report written from the store by `experiments report --sweep` in each format (wall and CPU time, process start
# included), and the HTML opened in headless Chromium with the network cut off until its charts are drawn.
# Usage: experiments/benchmarks/sweep-report.sh [TRIALS] [REPEATS]
set -euo pipefail
cd "$(dirname "$0")/../.."
trials="${1:-500}"; repeats="${2:-3}"
cli=src/Experiments.Cli/bin/Release/net10.0/experiments
[ -x "$cli" ] || dotnet build -c Release src/Experiments.Cli -v quiet -nologo
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/time -f "sweep of $trials trials, refit and reports: %e s wall" "$cli" sweep experiments/benchmarks/sweep-cheap-trials.json --trials "$trials" --parallel 2 \
  --store "$work/runs.db" --reports "$work/reports" --quiet >/dev/null
/usr/bin/python3 - "$work/runs.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print("trials stored per status:", dict(db.execute("select status, count(*) from sweep_trials where sweep_id = 1 group by status").fetchall()))
PY
chromium_bin=$(command -v chromium || command -v chromium-browser || true)
for i in $(seq "$repeats"); do
  for format in html markdown json; do
    /usr/bin/time -f "write $format: %e s wall, %U + %S s CPU" "$cli" report --sweep 1 --store "$work/runs.db" --format "$format" --out "$work/out" --quiet >/dev/null
  done
  if [ -n "$chromium_bin" ]; then
    start=$(date +%s.%N)
    /usr/bin/time -o "$work/chromium-cpu" -f "chromium CPU: %U + %S s" "$chromium_bin" --headless --no-sandbox --disable-gpu --disable-background-networking --no-first-run --host-resolver-rules="MAP * ~NOTFOUND" \
      --user-data-dir="$work/profile" --virtual-time-budget=10000 --dump-dom "file://$work/out/sweep-1.html" 2>/dev/null | grep -c 'class="js-plotly-plot"' | sed 's/^/plots drawn: /'
    echo "chromium open + draw: $(echo "$(date +%s.%N) - $start" | bc) s wall"
    cat "$work/chromium-cpu"
  fi
done
ls -l "$work/out" | awk 'NR > 1 { print $5, $9 }'
grep -c '<figure id="chart-' "$work/out/sweep-1.html" | sed 's/^/charts in the HTML: /'
[ -n "$chromium_bin" ] && "$chromium_bin" --headless --no-sandbox --disable-gpu --host-resolver-rules="MAP * ~NOTFOUND" --user-data-dir="$work/profile" --hide-scrollbars \
  --window-size=1280,4200 --virtual-time-budget=10000 --screenshot="${SCREENSHOT:-$work/sweep.png}" "file://$work/out/sweep-1.html" 2>/dev/null || true
