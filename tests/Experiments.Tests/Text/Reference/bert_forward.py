"""Reference forward pass for the tests: reads a checkpoint folder (config.json, vocab.txt, tokenizer_config.json,
model.safetensors parsed here with numpy) into BERT as Hugging Face defines it (experiments/benchmarks/peers/bert.py)
with load_state_dict(strict=True), so any missing or unexpected tensor fails, and runs it in float32.

Input (JSON on standard input): one job, or a list of jobs (answered by a list), each {"checkpoint": folder, "poolings": [...], "normalize": bool, and either "ids" +
"mask" (lists of rows) or "texts" + "max_length" (tokenised by bert_tokenizer.py, one text at a time, no padding);
optionally "npy": a path to load with numpy.load}. Output: {"state_dict": {name: [shape, dtype]} of the model the
config describes, "file": {name: [shape, dtype]} of the safetensors header, "states": last hidden states (for "ids"),
"pooled": {pooling: vectors}, "npy": {"shape", "dtype", "values"}}. Run with Debian's /usr/bin/python3
(python3-torch, python3-numpy).
"""
import json
import os
import sys

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "..", "..", "..", "experiments", "benchmarks", "peers"))
from bert import BertModel, Config, pool  # noqa: E402
from bert_tokenizer import tokenize  # noqa: E402

DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + length])
    header.pop("__metadata__", None)
    tensors = {}
    for name, entry in header.items():
        start, end = entry["data_offsets"]
        tensors[name] = np.frombuffer(data[8 + length + start:8 + length + end], dtype=DTYPES[entry["dtype"]]).reshape(entry["shape"])
    return header, tensors


def encode(text, vocabulary, options, max_length):
    ids = {token: i for i, token in enumerate(vocabulary)}
    pieces = [ids[t] for t in tokenize(text, set(vocabulary), options)]
    return [ids[options.get("cls_token", "[CLS]")]] + pieces[: max_length - 2] + [ids[options.get("sep_token", "[SEP]")]]


def token_name(value, fallback):
    return value["content"] if isinstance(value, dict) else (value or fallback)


def run(o):
    folder = o["checkpoint"]
    with open(os.path.join(folder, "config.json")) as f:
        config = Config(**json.load(f))
    header, tensors = read_safetensors(os.path.join(folder, "model.safetensors"))
    model = BertModel(config)
    model.load_state_dict({name: torch.from_numpy(value.copy()) for name, value in tensors.items()}, strict=True)
    model.eval()
    result = {
        "state_dict": {name: [list(t.shape), str(t.dtype).replace("torch.", "")] for name, t in model.state_dict().items()},
        "file": {name: [entry["shape"], {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}.get(entry["dtype"], entry["dtype"])] for name, entry in header.items()},
        "pooled": {},
    }
    with torch.no_grad():
        if "ids" in o:
            ids, mask = torch.tensor(o["ids"]), torch.tensor(o["mask"])
            states, pooled = model(ids, mask)
            result["states"] = states.tolist()
            for pooling in o["poolings"]:
                vectors = pool(states, pooled, mask, pooling)
                result["pooled"][pooling] = (torch.nn.functional.normalize(vectors, dim=1) if o.get("normalize") else vectors).tolist()
        else:
            with open(os.path.join(folder, "vocab.txt"), encoding="utf-8") as f:
                vocabulary = f.read().split("\n")
            if vocabulary and vocabulary[-1] == "":
                vocabulary.pop()
            options = {}
            path = os.path.join(folder, "tokenizer_config.json")
            if os.path.exists(path):
                with open(path) as f:
                    t = json.load(f)
                options = {"do_lower_case": t.get("do_lower_case", True), "strip_accents": t.get("strip_accents"), "tokenize_chinese_chars": t.get("tokenize_chinese_chars", True),
                           "unk_token": token_name(t.get("unk_token"), "[UNK]"), "cls_token": token_name(t.get("cls_token"), "[CLS]"), "sep_token": token_name(t.get("sep_token"), "[SEP]")}
            for pooling in o["poolings"]:
                rows = []
                for text in o["texts"]:
                    ids = torch.tensor([encode(text, vocabulary, options, o["max_length"])])
                    mask = torch.ones_like(ids)
                    states, pooled = model(ids, mask)
                    vector = pool(states, pooled, mask, pooling)
                    rows.append((torch.nn.functional.normalize(vector, dim=1) if o.get("normalize") else vector)[0].tolist())
                result["pooled"][pooling] = rows
    if "npy" in o:
        array = np.load(o["npy"])
        result["npy"] = {"shape": list(array.shape), "dtype": str(array.dtype), "values": array.astype(np.float64).tolist()}
    return result


data = json.load(sys.stdin)
json.dump([run(job) for job in data] if isinstance(data, list) else run(data), sys.stdout)
