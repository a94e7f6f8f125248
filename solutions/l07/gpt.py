"""Lesson 7: assembling the GPT.

Everything so far, stacked into GPT-2 (the architecture of nanoGPT's ``model.py``):

    x      = drop(wte[idx] + wpe[0..T-1])               token + position embeddings     (B, T, C)
    x      = Block(x)  n_layer times                     pre-norm: x + attn(ln_1(x)); x + mlp(ln_2(x))
    logits = lm_head(ln_f(x))                            lm_head.weight IS wte.weight     (B, T, vocab)
    loss   = cross_entropy(logits, targets)              targets[t] = the token after idx[t]

Parameter names are GPT-2's, so the model loads the released GPT-2 weights (Hugging Face layout, whose
``Conv1D`` layers store their weights transposed: (in, out) instead of nn.Linear's (out, in)).

Run ``python -m exercises.l07.gpt --hf-dir PATH`` on a downloaded GPT-2 folder (config.json +
model.safetensors) to print its parameter count and a few greedily generated tokens.
"""
from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..l02.embeddings import LearnedPositionalEmbedding, TokenEmbedding
from ..l05.norm import MLP, LayerNorm, PreNormBlock
from ..l06.causal import CausalSelfAttention

# Hugging Face's GPT-2 uses Conv1D for these four layers: weight (in, out), the transpose of nn.Linear's.
CONV1D_WEIGHTS = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")


@dataclass
class GPTConfig:
    """The hyperparameters of a GPT. The defaults are GPT-2 small (124M parameters)."""

    vocab_size: int = 50257  # GPT-2's BPE: 50,000 merges + 256 bytes + <|endoftext|>
    block_size: int = 1024  # the longest context (number of learned positions)
    n_layer: int = 12
    n_head: int = 12
    n_embd: int = 768
    dropout: float = 0.0  # GPT-2 trained with 0.1; 0.0 for inference and small fine-tunes
    bias: bool = True  # biases in the Linears and LayerNorms, as GPT-2 has
    # PyTorch's fused kernels for attention (SDPA), LayerNorm and GELU: the same numbers as the ops you
    # wrote, several times faster. False runs your own LayerNorm, gelu and hand-written attention.
    use_sdpa: bool = True


class FusedLayerNorm(LayerNorm):
    """L05's LayerNorm (same parameters, same numbers) computed by PyTorch's fused kernel.

    Written out, LayerNorm is nine elementwise ops forward and more backward, each a pass over the
    activations; ``F.layer_norm`` is one pass each way (about 10x faster on a CPU). L05's specs prove the
    two agree, so the model may use the fast one.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, self.eps)


class FusedMLP(MLP):
    """L05's MLP with PyTorch's fused tanh-GELU kernel (one op instead of eight, forward and backward)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x), approximate="tanh")))


class Block(PreNormBlock):
    """One GPT-2 block: L05's pre-norm block with L06's causal self-attention.

    Sub-layers: ``ln_1``, ``attn`` (CausalSelfAttention: ``c_attn``, ``c_proj``), ``ln_2``, ``mlp``
    (``c_fc``, ``c_proj``). With ``config.use_sdpa`` the LayerNorms and the MLP are the fused variants
    above. forward(x (B, T, C), padding_mask=None) -> (B, T, C).

    >>> Block(GPTConfig(n_layer=1, n_head=2, n_embd=8, block_size=16))(torch.randn(2, 5, 8)).shape
    torch.Size([2, 5, 8])
    """

    def __init__(self, config: GPTConfig):
        mlp_cls, norm_cls = (FusedMLP, FusedLayerNorm) if config.use_sdpa else (MLP, LayerNorm)
        ### BEGIN SOLUTION
        attn = CausalSelfAttention(
            config.n_embd, config.n_head, config.block_size,
            bias=config.bias, dropout=config.dropout, use_sdpa=config.use_sdpa,
        )
        super().__init__(  # attn and mlp given: PreNormBlock's own dropout would only reach its defaults
            config.n_embd, config.n_head, bias=config.bias, attn=attn,
            mlp=mlp_cls(config.n_embd, bias=config.bias, dropout=config.dropout), norm=norm_cls,
        )
        ### END SOLUTION


class GPT(nn.Module):
    """GPT-2: embeddings, n_layer pre-norm blocks, a final LayerNorm and a language-model head.

    Modules (GPT-2's names): ``transformer.wte`` (TokenEmbedding), ``transformer.wpe``
    (LearnedPositionalEmbedding), ``transformer.drop``, ``transformer.h`` (ModuleList of Block),
    ``transformer.ln_f`` (LayerNorm), ``lm_head`` (nn.Linear without bias) whose weight IS
    ``transformer.wte.weight`` (weight tying: the same matrix reads tokens in and scores them out).

    >>> model = GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=8))
    >>> logits, loss = model(torch.zeros(3, 5, dtype=torch.long))
    >>> logits.shape, loss
    (torch.Size([3, 5, 11]), None)
    """

    def __init__(self, config: GPTConfig):
        super().__init__()
        if config.n_embd % config.n_head != 0:
            raise ValueError(f"n_embd ({config.n_embd}) must be a multiple of n_head ({config.n_head})")
        self.config = config
        norm_cls = FusedLayerNorm if config.use_sdpa else LayerNorm
        ### BEGIN SOLUTION
        self.transformer = nn.ModuleDict(
            dict(
                wte=TokenEmbedding(config.vocab_size, config.n_embd),
                wpe=LearnedPositionalEmbedding(config.block_size, config.n_embd),
                drop=nn.Dropout(config.dropout),
                h=nn.ModuleList(Block(config) for _ in range(config.n_layer)),
                ln_f=norm_cls(config.n_embd, bias=config.bias),
            )
        )
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        # Weight tying: one (vocab, C) matrix embeds tokens and scores the next one (saves 38M
        # parameters in GPT-2 small, and tokens that mean alike look alike on both ends).
        self.lm_head.weight = self.transformer.wte.weight
        self.init_weights()
        ### END SOLUTION

    def init_weights(self) -> None:
        """GPT-2's initialisation, in place.

        Weights of Linears and embeddings ~ normal(0, 0.02), biases 0, LayerNorms weight 1 / bias 0; the
        two projections that write into the residual stream (``attn.c_proj`` and ``mlp.c_proj``) ~
        normal(0, 0.02 / sqrt(2 * n_layer)): the stream is a sum of 2 * n_layer such writes, and this
        keeps its variance from growing with depth.
        """
        ### BEGIN SOLUTION
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.normal_(module.weight, mean=0.0, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
            elif isinstance(module, (TokenEmbedding, LearnedPositionalEmbedding)):
                nn.init.normal_(module.weight, mean=0.0, std=0.02)
            elif isinstance(module, LayerNorm):
                nn.init.ones_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        residual_std = 0.02 / math.sqrt(2 * self.config.n_layer)
        for name, param in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(param, mean=0.0, std=residual_std)
        ### END SOLUTION

    def forward(
        self, idx: torch.Tensor, targets: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """idx: token ids (B, T), T <= block_size; targets: (B, T) next-token ids (-100 = ignore) or None.

        Returns (logits (B, T, vocab_size), loss): the mean cross-entropy over the non-ignored targets,
        or None without targets. targets are already shifted: targets[:, t] is the token that follows
        idx[:, t] (for a batch cut from a stream, idx = data[i : i + T], targets = data[i + 1 : i + T + 1]).
        """
        if idx.dim() != 2:
            raise ValueError(f"idx must be (B, T) token ids, got shape {tuple(idx.shape)}")
        if idx.shape[1] > self.config.block_size:
            raise ValueError(f"sequence length {idx.shape[1]} exceeds block_size {self.config.block_size}")
        ### BEGIN SOLUTION
        T = idx.shape[1]
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(T))  # (B, T, C)
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))  # (B, T, vocab)
        loss = None
        if targets is not None:
            # Flatten (B, T) into one batch of B * T predictions: one fused cross-entropy call.
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-100)
        return logits, loss
        ### END SOLUTION

    def num_parameters(self, non_embedding: bool = True) -> int:
        """The number of parameters, the tied wte/lm_head matrix counted once.

        non_embedding=True leaves out the position embeddings ``wpe``, as GPT-2 and nanoGPT report the
        size (the token embeddings stay in: they are also the output layer). GPT-2 small: 124,439,808 in
        total, 123,653,376 without wpe.
        """
        ### BEGIN SOLUTION
        total = sum(p.numel() for p in self.parameters())  # parameters() yields a shared tensor once
        return total - self.transformer.wpe.weight.numel() if non_embedding else total
        ### END SOLUTION

    def hf_state_dict(self) -> dict[str, torch.Tensor]:
        """This model's weights in Hugging Face's GPT2LMHeadModel naming and layout.

        Same keys as ``state_dict()`` (``transformer.h.0.attn.c_attn.weight``, ..., ``lm_head.weight``);
        the four Conv1D weights (CONV1D_WEIGHTS) transposed to (in, out). Loads into
        ``GPT2LMHeadModel(config).load_state_dict(...)``.
        """
        if not self.config.bias:
            raise ValueError("Hugging Face's GPT-2 always has biases: export a model built with bias=True")
        ### BEGIN SOLUTION
        return {
            name: tensor.t().contiguous() if name.endswith(CONV1D_WEIGHTS) else tensor
            for name, tensor in self.state_dict().items()
        }
        ### END SOLUTION

    def load_hf_state_dict(self, state_dict: dict[str, torch.Tensor]) -> None:
        """Copy weights in Hugging Face's GPT-2 naming and layout into this model, in place.

        Accepts ``GPT2LMHeadModel.state_dict()`` keys (``transformer.h.0...``) and the bare keys of
        the released checkpoints (``h.0...``, ``wte.weight``). Transposes the four Conv1D weights,
        skips ``lm_head.weight`` (tied to wte) and the old checkpoints' ``attn.bias`` /
        ``attn.masked_bias`` (cached causal masks, not weights). ValueError for missing or unexpected
        keys and for shape mismatches.
        """
        if not self.config.bias:
            raise ValueError("Hugging Face's GPT-2 always has biases: load into a model built with bias=True")
        ### BEGIN SOLUTION
        incoming = {}
        for name, tensor in state_dict.items():
            if name.endswith((".attn.bias", ".attn.masked_bias")) or name == "lm_head.weight":
                continue
            incoming[name if name.startswith("transformer.") else f"transformer.{name}"] = tensor
        params = dict(self.named_parameters())  # the tied lm_head.weight appears once, as wte.weight
        missing, unexpected = sorted(set(params) - set(incoming)), sorted(set(incoming) - set(params))
        if missing or unexpected:
            raise ValueError(f"state dict does not match the model: missing {missing}, unexpected {unexpected}")
        with torch.no_grad():
            for name, tensor in incoming.items():
                if name.endswith(CONV1D_WEIGHTS):
                    tensor = tensor.t()  # Conv1D (in, out) -> nn.Linear (out, in)
                if tensor.shape != params[name].shape:
                    raise ValueError(
                        f"{name}: checkpoint shape {tuple(tensor.shape)} != model shape {tuple(params[name].shape)}"
                    )
                params[name].copy_(tensor)
        ### END SOLUTION

    @classmethod
    def from_hf_dir(cls, path: str | Path, dropout: float = 0.0) -> GPT:
        """Build a GPT from a Hugging Face GPT-2 folder on disk (never downloads), in eval mode.

        The folder holds ``config.json`` and ``model.safetensors`` (or ``pytorch_model.bin``), e.g. what
        ``GPT2LMHeadModel.save_pretrained(path)`` writes or a copy of the released ``gpt2`` files.
        """
        path = Path(path)
        if not (path / "config.json").is_file():
            raise FileNotFoundError(f"no config.json in {path}: expected a Hugging Face GPT-2 folder")
        hf = json.loads((path / "config.json").read_text(encoding="utf-8"))
        unsupported = {
            "activation_function": (hf.get("activation_function", "gelu_new"), "gelu_new"),
            "n_inner": (hf.get("n_inner"), None if hf.get("n_inner") is None else 4 * hf["n_embd"]),
            "layer_norm_epsilon": (hf.get("layer_norm_epsilon", 1e-5), 1e-5),
            "scale_attn_by_inverse_layer_idx": (hf.get("scale_attn_by_inverse_layer_idx", False), False),
        }
        for key, (value, supported) in unsupported.items():
            if value != supported:
                raise ValueError(f"config.json has {key}={value!r}; this GPT supports only {supported!r}")
        config = GPTConfig(
            vocab_size=hf["vocab_size"], block_size=hf["n_positions"], n_layer=hf["n_layer"],
            n_head=hf["n_head"], n_embd=hf["n_embd"], dropout=dropout, bias=True,
        )
        if (path / "model.safetensors").is_file():
            from safetensors.torch import load_file

            state_dict = load_file(path / "model.safetensors")
        elif (path / "pytorch_model.bin").is_file():
            state_dict = torch.load(path / "pytorch_model.bin", map_location="cpu", weights_only=True)
        else:
            raise FileNotFoundError(f"no model.safetensors or pytorch_model.bin in {path}")
        model = cls(config)
        model.load_hf_state_dict(state_dict)
        return model.eval()


def main(argv: list[str] | None = None) -> None:
    """Load GPT-2 weights from disk, print the parameter count and a greedy continuation."""
    parser = argparse.ArgumentParser(description="Run GPT-2 weights from a local Hugging Face folder.")
    parser.add_argument("--hf-dir", required=True, help="folder with config.json and model.safetensors")
    parser.add_argument("--prompt", default="Hello, I'm a language model,")
    parser.add_argument("--tokens", type=int, default=20, help="how many tokens to generate greedily")
    args = parser.parse_args(argv)

    model = GPT.from_hf_dir(args.hf_dir)
    print(f"parameters: {model.num_parameters():,} (without position embeddings), "
          f"{model.num_parameters(non_embedding=False):,} in total")

    from tokenizers import ByteLevelBPETokenizer  # GPT-2's byte-level BPE (L01 builds the same thing)

    folder = Path(args.hf_dir)
    if not (folder / "vocab.json").is_file():
        folder = Path(__file__).resolve().parents[2] / "data" / "gpt2"  # the course's copy of GPT-2's files
    tokenizer = ByteLevelBPETokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"))
    ids = torch.tensor([tokenizer.encode(args.prompt).ids])
    with torch.no_grad():
        for _ in range(args.tokens):
            logits, _ = model(ids[:, -model.config.block_size :])
            ids = torch.cat([ids, logits[:, -1].argmax(dim=-1, keepdim=True)], dim=1)
    print(tokenizer.decode(ids[0].tolist()))


if __name__ == "__main__":
    main()
