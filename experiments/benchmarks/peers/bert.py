"""BERT in plain PyTorch, written from Hugging Face's BertModel definition (transformers' modeling_bert.py, eager
attention, absolute positions): the same modules, parameter names and state_dict, the activations Hugging Face's
ACT2FN maps hidden_act names to, and BERT's initialisation. `experiments bench text-throughput` times it
(encoder_throughput.py) and the tests check Experiments.Text's encoder against it (tests/Experiments.Tests/Text/
Reference/bert_forward.py). Needs only torch (Debian's python3-torch 1.13 will do).
"""
import math

import torch
from torch import nn


def activation(name):
    """Hugging Face's ACT2FN for the names BERT-style configs use."""
    functions = {
        "gelu": nn.functional.gelu,
        "gelu_python": lambda x: x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0))),
        "gelu_new": lambda x: 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0)))),
        "gelu_fast": lambda x: 0.5 * x * (1.0 + torch.tanh(x * 0.7978845608 * (1.0 + 0.044715 * x * x))),
        "gelu_pytorch_tanh": lambda x: nn.functional.gelu(x, approximate="tanh"),
        "quick_gelu": lambda x: x * torch.sigmoid(1.702 * x),
        "relu": nn.functional.relu,
        "silu": nn.functional.silu,
        "swish": nn.functional.silu,
    }
    return functions[name]


class Config:
    """The config.json fields BertModel reads, with Hugging Face's defaults."""

    def __init__(self, **fields):
        self.vocab_size = fields.get("vocab_size", 30522)
        self.hidden_size = fields.get("hidden_size", 768)
        self.num_hidden_layers = fields.get("num_hidden_layers", 12)
        self.num_attention_heads = fields.get("num_attention_heads", 12)
        self.intermediate_size = fields.get("intermediate_size", 3072)
        self.hidden_act = fields.get("hidden_act", "gelu")
        self.hidden_dropout_prob = fields.get("hidden_dropout_prob", 0.1)
        self.attention_probs_dropout_prob = fields.get("attention_probs_dropout_prob", 0.1)
        self.max_position_embeddings = fields.get("max_position_embeddings", 512)
        self.type_vocab_size = fields.get("type_vocab_size", 2)
        self.initializer_range = fields.get("initializer_range", 0.02)
        self.layer_norm_eps = fields.get("layer_norm_eps", 1e-12)
        self.pad_token_id = fields.get("pad_token_id", 0)


class BertEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c.vocab_size, c.hidden_size, padding_idx=c.pad_token_id)
        self.position_embeddings = nn.Embedding(c.max_position_embeddings, c.hidden_size)
        self.token_type_embeddings = nn.Embedding(c.type_vocab_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)
        # Buffers, not parameters; not in the state_dict (persistent=False), as in transformers since 4.31.
        self.register_buffer("position_ids", torch.arange(c.max_position_embeddings).expand((1, -1)), persistent=False)

    def forward(self, input_ids):
        positions = self.position_ids[:, : input_ids.shape[1]]
        embeddings = self.word_embeddings(input_ids) + self.token_type_embeddings(torch.zeros_like(input_ids)) + self.position_embeddings(positions)
        return self.dropout(self.LayerNorm(embeddings))


class BertSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads, self.size = c.num_attention_heads, c.hidden_size // c.num_attention_heads
        self.query = nn.Linear(c.hidden_size, c.hidden_size)
        self.key = nn.Linear(c.hidden_size, c.hidden_size)
        self.value = nn.Linear(c.hidden_size, c.hidden_size)
        self.dropout = nn.Dropout(c.attention_probs_dropout_prob)

    def forward(self, hidden, mask):
        b, t, h = hidden.shape
        split = lambda x: x.view(b, t, self.heads, self.size).transpose(1, 2)
        scores = split(self.query(hidden)) @ split(self.key(hidden)).transpose(-1, -2) / math.sqrt(self.size) + mask
        context = self.dropout(scores.softmax(-1)) @ split(self.value(hidden))
        return context.transpose(1, 2).reshape(b, t, h)


class BertSelfOutput(nn.Module):
    """dense → dropout → + residual → LayerNorm; Hugging Face's BertSelfOutput (width hidden) and BertOutput (width intermediate)."""

    def __init__(self, c, width=None):
        super().__init__()
        self.dense = nn.Linear(width or c.hidden_size, c.hidden_size)
        self.LayerNorm = nn.LayerNorm(c.hidden_size, eps=c.layer_norm_eps)
        self.dropout = nn.Dropout(c.hidden_dropout_prob)

    def forward(self, hidden, residual):
        return self.LayerNorm(self.dropout(self.dense(hidden)) + residual)


class BertAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = BertSelfAttention(c)
        self.output = BertSelfOutput(c)

    def forward(self, hidden, mask):
        return self.output(self.self(hidden, mask), hidden)


class BertIntermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.intermediate_size)
        self.act = activation(c.hidden_act)

    def forward(self, hidden):
        return self.act(self.dense(hidden))


class BertLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = BertAttention(c)
        self.intermediate = BertIntermediate(c)
        self.output = BertSelfOutput(c, c.intermediate_size)

    def forward(self, hidden, mask):
        attended = self.attention(hidden, mask)
        return self.output(self.intermediate(attended), attended)


class BertEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList(BertLayer(c) for _ in range(c.num_hidden_layers))

    def forward(self, hidden, mask):
        for layer in self.layer:
            hidden = layer(hidden, mask)
        return hidden


class BertPooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c.hidden_size, c.hidden_size)
        self.activation = nn.Tanh()

    def forward(self, hidden):
        return self.activation(self.dense(hidden[:, 0]))


class BertModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.embeddings = BertEmbeddings(c)
        self.encoder = BertEncoder(c)
        self.pooler = BertPooler(c)
        self.apply(self._init_weights)

    def _init_weights(self, module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            module.weight.data.normal_(mean=0.0, std=self.config.initializer_range)
            if isinstance(module, nn.Linear) and module.bias is not None:
                module.bias.data.zero_()
            if isinstance(module, nn.Embedding) and module.padding_idx is not None:
                module.weight.data[module.padding_idx].zero_()
        elif isinstance(module, nn.LayerNorm):
            module.bias.data.zero_()
            module.weight.data.fill_(1.0)

    def forward(self, input_ids, attention_mask):
        """(last_hidden_state, pooler_output); padded keys get the dtype's minimum added, as Hugging Face's extended mask."""
        hidden = self.embeddings(input_ids)
        mask = (1.0 - attention_mask[:, None, None, :].to(hidden.dtype)) * torch.finfo(hidden.dtype).min
        states = self.encoder(hidden, mask)
        return states, self.pooler(states)


def pool(states, pooler_output, attention_mask, pooling):
    """Sentence vectors as sentence-transformers pools (mean / max over unpadded tokens, the [CLS] state) or BERT's pooler."""
    m = attention_mask.unsqueeze(-1).to(states.dtype)
    if pooling == "mean":
        return (states * m).sum(1) / m.sum(1).clamp(min=1e-9)
    if pooling == "max":
        return states.masked_fill(m == 0, -1e9).max(1).values
    if pooling == "cls":
        return states[:, 0]
    if pooling == "pooler":
        return pooler_output
    raise ValueError(pooling)
