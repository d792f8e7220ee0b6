"""Peer figures for `experiments bench ctr`: XGBoost and scikit-learn logistic regression on exactly our splits.

Reads the click log CSV, drops exact duplicate rows when asked (keeping the first, as the platform's loader does),
then for each split (row indices from the platform) fits
  - XGBoost: 100 trees, depth 6, learning rate 0.1, categoricals label-encoded (unknown -> -1), numbers as floats;
  - logistic regression: every feature one-hot encoded (unknown values ignored), scikit-learn defaults;
and prints JSON: per split and peer, test AUC and log loss. Run with Debian's /usr/bin/python3.
"""
import csv
import json
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss, roc_auc_score
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder
from xgboost import XGBClassifier

request = json.load(sys.stdin)
with open(request["file"], newline="") as handle:
    reader = csv.reader(handle)
    header = next(reader)
    rows = [row for row in reader if row]
if request["dropDuplicates"]:
    seen, unique = set(), []
    for row in rows:
        if tuple(row) not in seen:
            seen.add(tuple(row))
            unique.append(row)
    rows = unique
column = {name: i for i, name in enumerate(header)}
table = np.array(rows, dtype=object)
labels = table[:, column[request["label"]]].astype(int)
numeric = [column[c] for c in request["numeric"]]
categorical = [column[c] for c in request["categorical"]]

def numbers(part):
    return np.array([[float(v) if v != "" else np.nan for v in row] for row in part[:, numeric]]) if numeric else np.zeros((len(part), 0))

results = []
for split in request["splits"]:
    train, test = table[split["train"]], table[split["test"]]
    y_train, y_test = labels[split["train"]], labels[split["test"]]
    encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
    x_train = np.hstack([numbers(train), encoder.fit_transform(train[:, categorical].astype(str))])
    x_test = np.hstack([numbers(test), encoder.transform(test[:, categorical].astype(str))])
    xgb = XGBClassifier(n_estimators=100, max_depth=6, learning_rate=0.1, random_state=split["seed"], n_jobs=2)
    xgb.fit(x_train, y_train)
    p = xgb.predict_proba(x_test)[:, 1]
    results.append({"seed": split["seed"], "peer": "xgboost", "auc": roc_auc_score(y_test, p), "logLoss": log_loss(y_test, p)})
    onehot = OneHotEncoder(handle_unknown="ignore")
    features = numeric + categorical
    lr = LogisticRegression(max_iter=2000)
    lr.fit(onehot.fit_transform(train[:, features].astype(str)), y_train)
    p = lr.predict_proba(onehot.transform(test[:, features].astype(str)))[:, 1]
    results.append({"seed": split["seed"], "peer": "logistic-regression (scikit-learn, one-hot)", "auc": roc_auc_score(y_test, p), "logLoss": log_loss(y_test, p)})
print(json.dumps(results))
