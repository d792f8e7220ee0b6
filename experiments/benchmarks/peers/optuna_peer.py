"""Optuna's TPE and random samplers on the tuner benchmark's test functions (the peer of `experiments bench tuners`).

Reads JSON on standard input: {"functions": [...], "samplers": ["tpe", "random"], "seeds": N, "trials": T,
"checkpoints": [20, 50, 100]}; writes JSON: one row per function, sampler and seed with the best value after each
checkpoint. Run with Debian's python3-optuna (3.1): /usr/bin/python3. The functions are defined exactly as in
src/Experiments.Sweeps/Benchmarks/TestFunctions.cs.
"""
import json
import math
import sys
import time

import optuna

optuna.logging.set_verbosity(optuna.logging.WARNING)


def branin_value(x1, x2):
    a, r, s = 1.0, 6.0, 10.0
    b = 5.1 / (4 * math.pi ** 2)
    c = 5 / math.pi
    t = 1 / (8 * math.pi)
    u = x2 - b * x1 * x1 + c * x1 - r
    return a * u * u + s * (1 - t) * math.cos(x1) + s


def branin(trial):
    return branin_value(trial.suggest_float("x1", -5, 10), trial.suggest_float("x2", 0, 15))


ALPHA = [1.0, 1.2, 3.0, 3.2]
A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]]
P = [[0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886], [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
     [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650], [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381]]


def hartmann6(trial):
    x = [trial.suggest_float(f"x{j + 1}", 0, 1) for j in range(6)]
    total = 0.0
    for i in range(4):
        inner = sum(A[i][j] * (x[j] - P[i][j]) ** 2 for j in range(6))
        total += ALPHA[i] * math.exp(-inner)
    return -total


def rosenbrock4(trial):
    x = [trial.suggest_float(f"x{j + 1}", -5, 10) for j in range(4)]
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(3))


def conditional(trial):
    rate = math.log10(trial.suggest_float("rate", 1e-4, 1, log=True)) + 2
    branch = trial.suggest_categorical("branch", ["a", "b", "c"])
    if branch == "a":
        value = branin_value(trial.suggest_float("branch.a.x1", -5, 10), trial.suggest_float("branch.a.x2", 0, 15))
    elif branch == "b":
        x = trial.suggest_float("branch.b.x", -5, 5)
        k = trial.suggest_int("branch.b.k", -10, 10)
        scale = trial.suggest_float("branch.b.scale", 1e-3, 10, log=True)
        value = (x - 1.2) ** 2 + 0.1 * (k - 3) ** 2 + (math.log10(scale) + 1) ** 2
    else:
        value = 4 * sum((trial.suggest_float(f"branch.c.x{j}", 0, 1) - 0.3) ** 2 for j in (1, 2, 3)) + 0.5
    return value + 0.1 * rate * rate


FUNCTIONS = {"branin": branin, "hartmann6": hartmann6, "rosenbrock4": rosenbrock4, "conditional": conditional}


def main():
    request = json.load(sys.stdin)
    rows = []
    for name in request["functions"]:
        for sampler_name in request["samplers"]:
            for seed in range(request["seeds"]):
                sampler = optuna.samplers.TPESampler(seed=seed) if sampler_name == "tpe" else optuna.samplers.RandomSampler(seed=seed)
                study = optuna.create_study(sampler=sampler)
                start = time.perf_counter()
                study.optimize(FUNCTIONS[name], n_trials=request["trials"])
                seconds = time.perf_counter() - start
                values = [t.value for t in study.trials]
                best, bests = math.inf, []
                for v in values:
                    best = min(best, v)
                    bests.append(best)
                rows.append({"function": name, "tuner": f"optuna-{sampler_name}", "seed": seed,
                             "best": [bests[c - 1] for c in request["checkpoints"]], "seconds": seconds})
    json.dump({"optuna": optuna.__version__, "rows": rows}, sys.stdout)


if __name__ == "__main__":
    main()
