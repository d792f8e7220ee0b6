"""Independent BPR peer for docs/benchmarks.md, written from Rendle et al. (UAI 2009), numpy only.

Protocol of Microsoft Recommenders' BPR notebook on MovieLens: per-user stratified split (each user's ratings shuffled
with the seed, the first 75% to train), every rating an interaction, top-10 with the user's training items removed.
Model: x_ui = p_u . q_i + b_i; LearnBPR draws (u, i) uniformly from the training pairs and j uniformly from the items
u has not interacted with, and ascends ln sigma(x_ui - x_uj) - lambda ||theta||^2. Here the draws are processed in
mini-batches of --batch triples whose gradients are taken at the same parameters and summed (np.add.at), the
vectorised form of the per-triple step; an epoch is as many triples as training pairs. Initialisation as Cornac's:
uniform(-0.5, 0.5) / k for the factors, zero biases.

Writes truth.csv (user,item) and predictions.csv (user,item,score: the top 10 per user) into --out, to be scored by
`experiments evaluate --truth truth.csv --predictions predictions.csv --metrics ...`, so that both sides use the same
metric code.

Usage: /usr/bin/python3 bpr_peer.py RATINGS_CSV --out DIR [--k 200 --epochs 100 --lr 0.01 --reg 0.001 --seed 42]
"""
import argparse
import csv
import os
import time

import numpy as np


def stratified_split(users, items, ratio, seed):
    rng = np.random.default_rng(seed)
    train, test = [], []
    by_user = {}
    for row, u in enumerate(users):
        by_user.setdefault(u, []).append(row)
    for u in sorted(by_user):
        rows = np.array(by_user[u])
        rng.shuffle(rows)
        cut = int(round(ratio * len(rows)))
        train.extend(rows[:cut])
        test.extend(rows[cut:])
    return np.array(train), np.array(test)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("ratings")
    parser.add_argument("--out", required=True)
    parser.add_argument("--k", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--reg", type=float, default=0.001)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    with open(args.ratings, newline="") as f:
        rows = list(csv.DictReader(f))
    user_ids = [r["userId"] for r in rows]
    item_ids = [r["movieId"] for r in rows]
    train_rows, test_rows = stratified_split(user_ids, item_ids, 0.75, args.seed)
    users = sorted(set(user_ids[r] for r in train_rows))
    items = sorted(set(item_ids[r] for r in train_rows))
    uix = {u: n for n, u in enumerate(users)}
    iix = {i: n for n, i in enumerate(items)}
    pairs = np.array(sorted({(uix[user_ids[r]], iix[item_ids[r]]) for r in train_rows}), dtype=np.int64)
    n_users, n_items, k = len(users), len(items), args.k
    positive = np.zeros((n_users, n_items), dtype=bool)
    positive[pairs[:, 0], pairs[:, 1]] = True

    rng = np.random.default_rng(args.seed)
    P = (rng.uniform(size=(n_users, k)) - 0.5) / k
    Q = (rng.uniform(size=(n_items, k)) - 0.5) / k
    b = np.zeros(n_items)
    start = time.time()
    for _ in range(args.epochs):
        for _ in range(0, len(pairs), args.batch):
            draw = pairs[rng.integers(0, len(pairs), args.batch)]
            u, i = draw[:, 0], draw[:, 1]
            j = rng.integers(0, n_items, args.batch)
            bad = positive[u, j]
            while bad.any():  # j uniform over the items u has not interacted with
                j[bad] = rng.integers(0, n_items, bad.sum())
                bad = positive[u, j]
            pu, qi, qj = P[u], Q[i], Q[j]
            x = b[i] - b[j] + np.einsum("nf,nf->n", pu, qi - qj)
            g = 1.0 / (1.0 + np.exp(x))  # d ln sigma(x) / dx = sigma(-x)
            np.add.at(P, u, args.lr * (g[:, None] * (qi - qj) - args.reg * pu))
            np.add.at(Q, i, args.lr * (g[:, None] * pu - args.reg * qi))
            np.add.at(Q, j, args.lr * (-g[:, None] * pu - args.reg * qj))
            np.add.at(b, i, args.lr * (g - args.reg * b[i]))
            np.add.at(b, j, args.lr * (-g - args.reg * b[j]))
    seconds = time.time() - start

    os.makedirs(args.out, exist_ok=True)
    scores = P @ Q.T + b
    scores[positive] = -np.inf
    with open(os.path.join(args.out, "predictions.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user", "item", "score"])
        for u in range(n_users):
            top = np.argpartition(-scores[u], args.top)[: args.top]
            for i in top[np.argsort(-scores[u][top])]:
                w.writerow([users[u], items[i], f"{scores[u, i]:.6f}"])
    with open(os.path.join(args.out, "truth.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user", "item"])
        for r in test_rows:
            w.writerow([user_ids[r], item_ids[r]])
    print(f"bpr-peer k={k} epochs={args.epochs} lr={args.lr} reg={args.reg} batch={args.batch}: {len(pairs)} training pairs, "
          f"{n_users} users, {n_items} items, {len(test_rows)} test rows, fit {seconds:.1f} s")


if __name__ == "__main__":
    main()
