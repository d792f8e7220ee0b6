"""PyTorch side of `experiments bench text-throughput`: the same BERT-style encoder shapes, timed the same way.

Hugging Face's BertModel as bert.py (beside this script) writes it (token, position, segment embeddings; N post-LN
layers of multi-head self-attention and a GELU feed-forward block; the pooler, one small matrix product per text),
mean pooling, a linear classification head. Encoding: forward passes without gradients in eval
mode. Training: forward, cross-entropy, backward, gradient clipping and an AdamW step. Device "cpu" or "cuda[:n]";
precision "float32", or "bfloat16"/"float16" through autocast (float16 with a GradScaler). On CUDA the clock is read
after torch.cuda.synchronize(). Prints JSON. Run with Debian's /usr/bin/python3 (python3-torch), or any PyTorch.
"""
import contextlib
import json
import sys
import time

import torch
from torch import nn

from bert import BertModel, Config, pool

o = json.load(sys.stdin)
torch.manual_seed(o["seed"])
device = torch.device("cpu" if o.get("device", "cpu") == "cpu" else o["device"])
precision = o.get("precision", "float32")
if precision == "auto":
    precision = "bfloat16" if device.type == "cuda" else "float32"
autocast = (lambda: torch.autocast(device.type, dtype=getattr(torch, precision))) if precision != "float32" else contextlib.nullcontext
scaler = torch.amp.GradScaler(device.type, enabled=precision == "float16") if hasattr(torch, "amp") and hasattr(torch.amp, "GradScaler") else None
sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
torch.set_num_threads(o["threads"])
H, L, A, I, V, T, B = o["hidden"], o["layers"], o["heads"], o["intermediate"], o["vocabulary"], o["length"], o["batch"]


class Encoder(nn.Module):
    """Hugging Face's BertModel (bert.py, beside this script) with mean pooling, as the C# side's default."""

    def __init__(self):
        super().__init__()
        self.bert = BertModel(Config(vocab_size=V, hidden_size=H, num_hidden_layers=L, num_attention_heads=A, intermediate_size=I,
                                     max_position_embeddings=max(64, T)))

    def forward(self, ids, mask):
        states, pooled = self.bert(ids, mask)
        return pool(states, pooled, mask, "mean")


encoder, head = Encoder().to(device), nn.Linear(H, 10).to(device)
ids = torch.randint(1, V, (B, T), device=device)
mask = torch.ones(B, T, dtype=torch.long, device=device)
labels = torch.randint(0, 10, (B,), device=device)

encoder.eval()
with torch.no_grad(), autocast():
    for _ in range(3):
        encoder(ids, mask)
    sync()
    start = time.perf_counter()
    for _ in range(o["encodeBatches"]):
        encoder(ids, mask)
    sync()
    encode = time.perf_counter() - start

encoder.train()
parameters = list(encoder.parameters()) + list(head.parameters())
optimizer = torch.optim.AdamW(parameters, lr=1e-3, weight_decay=0.01)
def step():
    optimizer.zero_grad()
    with autocast():
        loss = nn.functional.cross_entropy(head(encoder(ids, mask)), labels)
    if scaler is not None and scaler.is_enabled():
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        nn.utils.clip_grad_norm_(parameters, 1.0)
        scaler.step(optimizer)
        scaler.update()
    else:
        loss.backward()
        nn.utils.clip_grad_norm_(parameters, 1.0)
        optimizer.step()
for _ in range(3):
    step()
sync()
start = time.perf_counter()
for _ in range(o["trainSteps"]):
    step()
sync()
train = time.perf_counter() - start
print(json.dumps({"encodedPerSecond": o["encodeBatches"] * B / encode, "trainStepsPerSecond": o["trainSteps"] / train, "torch": torch.__version__, "threads": torch.get_num_threads()}))
