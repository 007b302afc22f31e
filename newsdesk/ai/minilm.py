"""A BERT sentence encoder (MiniLM) on plain torch, for the shared embedding process.

sentence-transformers brings transformers, scipy, scikit-learn and sympy along with
torch: 350 MB of the embedding process's 525 MB at rest were these libraries, for a
model of 90 MB. The forward pass of a BERT encoder with mean pooling and unit length,
which is all that all-MiniLM-L6-v2 is, takes some 40 lines of torch; tokenization is
the model's own `tokenizer.json` read by the `tokenizers` library (the Rust tokenizer
transformers uses), and the weights are its `model.safetensors`. The vectors are
sentence-transformers' to within float rounding (tests/test_embedding_service.py
compares them), so articles embedded either way sit in one index.

`load(path)` returns None for a model that is not such an encoder (another
architecture or pooling), and the embedder then uses sentence-transformers.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def load(path: str, max_tokens: int) -> MiniLM | None:
    """The encoder for the sentence-transformers model folder `path`, or None when it is
    not a BERT encoder with mean pooling and normalisation (or not a local folder)."""
    folder = Path(path)
    try:
        config = json.loads((folder / "config.json").read_text())
        modules = [m["type"].rsplit(".", 1)[-1] for m in json.loads((folder / "modules.json").read_text())]
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
    except (OSError, ValueError, KeyError):
        return None
    means_only = pooling.get("pooling_mode_mean_tokens") and not any(
        v for k, v in pooling.items() if k.startswith("pooling_mode_") and k != "pooling_mode_mean_tokens"
    )
    if (
        config.get("model_type") != "bert"
        or config.get("position_embedding_type", "absolute") != "absolute"
        or config.get("hidden_act") != "gelu"
        or modules != ["Transformer", "Pooling", "Normalize"]
        or not means_only
        or not (folder / "model.safetensors").exists()
        or not (folder / "tokenizer.json").exists()
    ):
        return None
    return MiniLM(folder, config, max_tokens)


class MiniLM:
    """BertModel's forward pass (inference only), mean-pooled over the real tokens and
    scaled to unit length, as sentence-transformers computes it."""

    def __init__(self, folder: Path, config: dict[str, Any], max_tokens: int) -> None:
        import torch
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        self.torch = torch
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.max_tokens = min(max_tokens, int(config.get("max_position_embeddings", 512)))
        self.weights = load_file(str(folder / "model.safetensors"))
        self.weights = {k.removeprefix("bert."): v for k, v in self.weights.items()}
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.max_tokens)
        self.tokenizer.enable_padding(pad_id=int(config.get("pad_token_id", 0)), pad_token="[PAD]")

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit-length float32 rows, one per text (stripped, as sentence-transformers does)."""
        torch = self.torch
        encodings = self.tokenizer.encode_batch([str(t).strip() for t in texts])
        with torch.inference_mode():
            ids = torch.tensor([e.ids for e in encodings], dtype=torch.long)
            types = torch.tensor([e.type_ids for e in encodings], dtype=torch.long)
            mask = torch.tensor([e.attention_mask for e in encodings], dtype=torch.float32)
            hidden = self._forward(ids, types, mask)
            summed = (hidden * mask.unsqueeze(-1)).sum(dim=1)
            pooled = summed / mask.sum(dim=1, keepdim=True).clamp(min=1e-9)
            vectors = torch.nn.functional.normalize(pooled, p=2, dim=1)
        return vectors.numpy().astype(np.float32, copy=False)

    def _forward(self, ids: Any, types: Any, mask: Any) -> Any:
        torch, w = self.torch, self.weights
        functional = torch.nn.functional
        batch, length = ids.shape
        x = (
            functional.embedding(ids, w["embeddings.word_embeddings.weight"])
            + w["embeddings.position_embeddings.weight"][:length].unsqueeze(0)
            + functional.embedding(types, w["embeddings.token_type_embeddings.weight"])
        )
        x = self._norm(x, "embeddings.LayerNorm")
        width = x.shape[-1]
        # Padding never attends: a large negative added to its scores before the softmax.
        blocked = (1.0 - mask)[:, None, None, :] * torch.finfo(torch.float32).min
        for n in range(self.layers):
            at = f"encoder.layer.{n}."

            attention = functional.scaled_dot_product_attention(
                self._heads(x, f"{at}attention.self.query"),
                self._heads(x, f"{at}attention.self.key"),
                self._heads(x, f"{at}attention.self.value"),
                blocked,
            )
            context = attention.transpose(1, 2).reshape(batch, length, width)
            attended = functional.linear(
                context, w[f"{at}attention.output.dense.weight"], w[f"{at}attention.output.dense.bias"]
            )
            x = self._norm(attended + x, f"{at}attention.output.LayerNorm")
            inner = functional.gelu(
                functional.linear(x, w[f"{at}intermediate.dense.weight"], w[f"{at}intermediate.dense.bias"])
            )
            out = functional.linear(inner, w[f"{at}output.dense.weight"], w[f"{at}output.dense.bias"])
            x = self._norm(out + x, f"{at}output.LayerNorm")
        return x

    def _heads(self, x: Any, name: str) -> Any:
        """A linear projection of x split into the attention heads: (batch, heads, length, size)."""
        batch, length, width = x.shape
        y = self.torch.nn.functional.linear(x, self.weights[f"{name}.weight"], self.weights[f"{name}.bias"])
        return y.view(batch, length, self.heads, width // self.heads).transpose(1, 2)

    def _norm(self, x: Any, name: str) -> Any:
        return self.torch.nn.functional.layer_norm(
            x, (x.shape[-1],), self.weights[f"{name}.weight"], self.weights[f"{name}.bias"], self.eps
        )
