"""Summarises experiments/benchmarks/sweep-tuners-real.sh's output folder: per definition and tuner, the median and
quartiles over seeds of the best validation value after each checkpoint, and of the compute time (the trials' own
seconds, from the store) spent to reach it; then whether each tuner reaches random search's median best at the last
checkpoint within the given trial count (the second checkpoint), and whether it does so in less compute than random
search's run of the same seed spent on all its trials (the seeds' runs are interleaved, so they shared the machine's load).
Usage: /usr/bin/python3 experiments/benchmarks/sweep-tuners-summary.py OUT [10 20 50]"""
import glob, json, os, sqlite3, statistics, sys
from collections import defaultdict

out = sys.argv[1]
checkpoints = [int(c) for c in sys.argv[2:]] or [10, 20, 50]
db = sqlite3.connect(os.path.join(out, "sweeps.db"))


def quartiles(values):
    if len(values) == 1:
        return values[0], values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[1], q[0], q[2]


runs = defaultdict(list)  # (definition, tuner) -> [(best per trial, seconds per trial, maximise, seed)]
for path in sorted(glob.glob(os.path.join(out, "*.json"))):
    r = json.load(open(path))
    definition, tuner, seed = os.path.basename(path)[:-5].rsplit("-", 2)
    seconds = dict(db.execute("select number, coalesce(seconds, 0) from sweep_trials where sweep_id = ?", (r["sweepId"],)).fetchall())
    best = [h["best"] for h in sorted(r["history"], key=lambda h: h["number"])]
    runs[(definition, tuner)].append((best, [seconds.get(n, 0.0) for n in range(len(best))], r["objective"].startswith("max"), seed))

for definition in sorted({d for d, _ in runs}):
    print(f"\n### {definition}\n")
    print("| tuner | seeds | " + " | ".join(f"best after {c} (median [q1, q3])" for c in checkpoints) + " | " +
          " | ".join(f"compute s to {c}" for c in checkpoints) + " |")
    print("|---|---:|" + "---:|" * (2 * len(checkpoints)))
    medians = {}
    for (d, tuner), seeds in sorted(runs.items()):
        if d != definition:
            continue
        cells, costs = [], []
        for c in checkpoints:
            bests = [b[c - 1] for b, _, _, _ in seeds if len(b) >= c and b[c - 1] is not None]
            spent = [sum(s[:c]) for b, s, _, _ in seeds if len(b) >= c]
            if bests:
                m, q1, q3 = quartiles(bests)
                medians[(tuner, c)] = m
                cells.append(f"{m:.4f} [{q1:.4f}, {q3:.4f}]")
                costs.append(f"{statistics.median(spent):.0f}")
            else:
                cells.append("—")
                costs.append("—")
        print(f"| {tuner} | {len(seeds)} | " + " | ".join(cells) + " | " + " | ".join(costs) + " |")
    maximise = next(s for (d, _), v in runs.items() if d == definition for _, _, s, _ in v)
    target = medians.get(("random", checkpoints[-1]))
    if target is None:
        continue
    print(f"\nrandom search's median best after {checkpoints[-1]} trials: {target:.4f}")
    random_spent = {seed: sum(s[:checkpoints[-1]]) for _, s, _, seed in runs[(definition, "random")]}
    for (d, tuner), seeds in sorted(runs.items()):
        if d != definition or tuner == "random":
            continue
        reached = []
        for best, seconds, _, seed in seeds:
            hit = next((i + 1 for i, b in enumerate(best) if b is not None and (b >= target if maximise else b <= target)), None)
            reached.append((hit, sum(seconds[:hit]) if hit else None, random_spent.get(seed)))
        within = [(h, s, r) for h, s, r in reached if h is not None and h <= checkpoints[1]]
        cheaper = sum(1 for _, s, r in within if r is not None and s < r)
        print(f"- {tuner}: reaches it within {checkpoints[1]} trials in {len(within)} of {len(seeds)} seeds, {cheaper} of them in less "
              f"compute than random's {checkpoints[-1]} trials of the same seed; trials to reach it: "
              + ", ".join(str(h) if h else "never" for h, _, _ in reached)
              + "; compute s to reach it (random's to " + str(checkpoints[-1]) + "): "
              + ", ".join((f"{s:.0f}" if s is not None else "—") + (f" ({r:.0f})" if r is not None else "") for _, s, r in reached))
