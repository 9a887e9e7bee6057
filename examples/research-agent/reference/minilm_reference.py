"""An independent reference for the embedding endpoint's model: all-MiniLM-L6-v2 written out in
numpy (BERT: embeddings, 6 layers of self-attention and GELU feed-forward, post layer norms;
then mean pooling over the attention mask and L2 normalisation, as sentence-transformers'
pooling config says), reading the same model.safetensors and tokenizer.json with the
`safetensors` and `tokenizers` Python packages. It shares no code with the Rust side (candle).

    python3 -m venv /tmp/ref && /tmp/ref/bin/pip install numpy tokenizers safetensors
    /tmp/ref/bin/python examples/research-agent/reference/minilm_reference.py target/models/all-MiniLM-L6-v2

prints the cosine similarity of each pair below; the Rust test records them.
"""

import json
import math
import pathlib
import sys

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

PAIRS = [
    ("How much GPU memory does a 70B model need?", "What VRAM is required to serve a seventy billion parameter LLM?"),
    ("How much GPU memory does a 70B model need?", "The bakery opens at seven in the morning."),
    ("Workers scale to zero when idle.", "Idle workers are stopped so nothing is billed."),
    ("A cat sits on the mat.", "Quarterly revenue grew by twelve percent."),
]


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu(x):
    return 0.5 * x * (1.0 + np.vectorize(math.erf)(x / math.sqrt(2.0)))


def embed(text, t, tok, cfg):
    enc = tok.encode(text)
    # The tokenizer pads to 128: keep the real tokens (attention mask 1) only.
    ids = np.array([i for i, m in zip(enc.ids, enc.attention_mask) if m])
    n, h, heads = len(ids), cfg["hidden_size"], cfg["num_attention_heads"]
    eps = cfg["layer_norm_eps"]
    p = lambda k: t[k].astype(np.float64)
    # Some exports name the tensors with a `bert.` prefix, some without.
    pre = "bert." if any(k.startswith("bert.") for k in t) else ""
    q = lambda k: p(pre + k)
    x = q("embeddings.word_embeddings.weight")[ids] + q("embeddings.position_embeddings.weight")[:n] \
        + q("embeddings.token_type_embeddings.weight")[np.zeros(n, dtype=int)]
    x = layer_norm(x, q("embeddings.LayerNorm.weight"), q("embeddings.LayerNorm.bias"), eps)
    d = h // heads
    for i in range(cfg["num_hidden_layers"]):
        L = f"encoder.layer.{i}."
        lin = lambda v, k: v @ q(L + k + ".weight").T + q(L + k + ".bias")
        Q, K, V = (lin(x, f"attention.self.{k}").reshape(n, heads, d).transpose(1, 0, 2) for k in ("query", "key", "value"))
        s = Q @ K.transpose(0, 2, 1) / math.sqrt(d)
        s = np.exp(s - s.max(-1, keepdims=True))
        s /= s.sum(-1, keepdims=True)
        ctx = (s @ V).transpose(1, 0, 2).reshape(n, h)
        x = layer_norm(lin(ctx, "attention.output.dense") + x, q(L + "attention.output.LayerNorm.weight"), q(L + "attention.output.LayerNorm.bias"), eps)
        f = lin(gelu(lin(x, "intermediate.dense")), "output.dense")
        x = layer_norm(f + x, q(L + "output.LayerNorm.weight"), q(L + "output.LayerNorm.bias"), eps)
    v = x.mean(0)  # mean pooling over the real tokens
    return v / np.linalg.norm(v)


def main():
    d = pathlib.Path(sys.argv[1])
    t = load_file(str(d / "model.safetensors"))
    tok = Tokenizer.from_file(str(d / "tokenizer.json"))
    cfg = json.loads((d / "config.json").read_text())
    for a, b in PAIRS:
        print(f"{float(embed(a, t, tok, cfg) @ embed(b, t, tok, cfg)):.5f}  {a!r} / {b!r}")


if __name__ == "__main__":
    main()
