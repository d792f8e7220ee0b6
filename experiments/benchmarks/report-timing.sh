# Sourced by report-render.sh and sweep-report.sh. time_reports WORK REPEATS HTML COMMAND...: REPEATS rounds of
# COMMAND (an `experiments report …` from the store) in each format with --out WORK/out, timed (wall, and CPU time —
# user + system — which a loaded machine inflates far less), then WORK/out/HTML opened in headless Chromium with the
# network cut off until its charts are drawn; then the files' sizes.
time_reports() {
  local work=$1 repeats=$2 html=$3; shift 3
  local chromium_bin start
  chromium_bin=$(command -v chromium || command -v chromium-browser || true)
  for i in $(seq "$repeats"); do
    for format in html markdown json; do
      /usr/bin/time -f "write $format: %e s wall, %U + %S s CPU" "$@" --format "$format" --out "$work/out" --quiet >/dev/null
    done
    if [ -n "$chromium_bin" ]; then
      start=$(date +%s.%N)
      /usr/bin/time -o "$work/chromium-cpu" -f "chromium CPU: %U + %S s" "$chromium_bin" --headless --no-sandbox --disable-gpu --disable-background-networking --no-first-run --host-resolver-rules="MAP * ~NOTFOUND" \
        --user-data-dir="$work/profile" --virtual-time-budget=10000 --dump-dom "file://$work/out/$html" 2>/dev/null | grep -c 'class="js-plotly-plot"' | sed 's/^/plots drawn: /'
      echo "chromium open + draw: $(echo "$(date +%s.%N) - $start" | bc) s wall"
      cat "$work/chromium-cpu"
    fi
  done
  ls -l "$work/out" | awk 'NR > 1 { print $5, $9 }'
}
