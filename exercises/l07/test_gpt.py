"""Specs for lesson 7: the GPT assembled from L02-L06, checked against Hugging Face's GPT-2.

The oracle is ``transformers.GPT2LMHeadModel`` built from a ``GPT2Config`` (random weights, nothing is
downloaded): with the same weights, our logits and loss must equal its own within 1e-5.
"""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ..l05.norm import LayerNorm, PreNormBlock
from ..l06.causal import CausalSelfAttention
from .gpt import GPT, Block, FusedLayerNorm, FusedMLP, GPTConfig

CONFIGS = [
    dict(vocab_size=61, block_size=16, n_layer=2, n_head=4, n_embd=32, use_sdpa=True),
    dict(vocab_size=37, block_size=9, n_layer=3, n_head=2, n_embd=24, use_sdpa=False),
    dict(vocab_size=50, block_size=12, n_layer=1, n_head=1, n_embd=16, use_sdpa=True),
]
CONV1D = ("attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight")


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _hf_model(config: GPTConfig, seed: int = 0, dropout: float = 0.0):
    """Hugging Face's GPT-2 at our config, every weight random (biases and LayerNorms too), eval mode."""
    from transformers import GPT2Config, GPT2LMHeadModel

    hf_config = GPT2Config(
        vocab_size=config.vocab_size, n_positions=config.block_size, n_embd=config.n_embd,
        n_layer=config.n_layer, n_head=config.n_head, activation_function="gelu_new",
        resid_pdrop=dropout, embd_pdrop=dropout, attn_pdrop=dropout, layer_norm_epsilon=1e-5,
        bos_token_id=0, eos_token_id=0, attn_implementation="eager",
    )
    torch.manual_seed(seed)
    hf = GPT2LMHeadModel(hf_config)
    g = _gen(seed)
    with torch.no_grad():
        for name, p in hf.named_parameters():
            scale = 0.3 if name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight")) else 0.1
            base = 1.0 if name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight")) else 0.0
            p.copy_(base + scale * torch.randn(p.shape, generator=g))
    return hf.eval()


def _copy_from_hf(model: GPT, hf) -> GPT:
    """Load Hugging Face weights by hand (the specs of the forward pass should not depend on your loader)."""
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, tensor in hf.state_dict().items():
            if name == "lm_head.weight":
                continue
            if name not in params:
                raise AssertionError(
                    f"your GPT has no parameter {name} of its own (named_parameters() lists each tensor once): "
                    + ("the blocks share their weights: build n_layer separate Blocks, "
                       "nn.ModuleList(Block(config) for _ in range(n_layer)), not [Block(config)] * n_layer"
                       if name.startswith("transformer.h.") else "name it as GPT-2 does")
                )
            params[name].copy_(tensor.t() if name.endswith(CONV1D) else tensor)
    return model.eval()


def _ids(config: GPTConfig, B: int = 3, T: int | None = None, seed: int = 1) -> torch.Tensor:
    return torch.randint(0, config.vocab_size, (B, T or config.block_size), generator=_gen(seed))


# --- Stage 1: the block ------------------------------------------------------------------------------


def test_block_structure():
    assert GPTConfig() == GPTConfig(
        vocab_size=50257, block_size=1024, n_layer=12, n_head=12, n_embd=768, dropout=0.0, bias=True, use_sdpa=True
    ), "GPTConfig's defaults should be GPT-2 small"
    config = GPTConfig(vocab_size=20, block_size=8, n_layer=2, n_head=2, n_embd=16, dropout=0.1, use_sdpa=False)
    block = Block(config)
    assert isinstance(block, PreNormBlock), "Block should be L05's PreNormBlock (subclass it, call super().__init__)"
    assert isinstance(block.attn, CausalSelfAttention), (
        f"Block.attn should be L06's CausalSelfAttention, got {type(block.attn).__name__}: pass attn=... to PreNormBlock"
    )
    assert (block.attn.block_size, block.attn.use_sdpa, block.attn.attn_dropout.p) == (8, False, 0.1), (
        "Block's attention should take block_size, use_sdpa and dropout from the config"
    )
    assert block.mlp.dropout.p == 0.1, "Block's MLP should use the config's dropout"
    names = sorted(block.state_dict())
    want = sorted(
        f"{m}.{p}" for m in ("ln_1", "attn.c_attn", "attn.c_proj", "ln_2", "mlp.c_fc", "mlp.c_proj") for p in ("weight", "bias")
    )
    assert names == want, f"Block's state dict should be GPT-2's {want}, got {names}"
    assert sorted(Block(GPTConfig(n_layer=1, n_head=2, n_embd=16, block_size=8, bias=False)).state_dict()) == sorted(
        n for n in want if n.endswith("weight")
    ), "Block(bias=False) should have no biases (LayerNorms included)"
    for use_sdpa in (False, True):
        block = Block(GPTConfig(vocab_size=20, block_size=8, n_layer=1, n_head=2, n_embd=16, use_sdpa=use_sdpa))
        parts = {"attn.use_sdpa": block.attn.use_sdpa, "ln_1": isinstance(block.ln_1, FusedLayerNorm),
                 "ln_2": isinstance(block.ln_2, FusedLayerNorm), "mlp": isinstance(block.mlp, FusedMLP)}
        wrong = [name for name, fused in parts.items() if fused != use_sdpa]
        assert not wrong, (
            f"Block(use_sdpa={use_sdpa}): {wrong} should {'' if use_sdpa else 'not '}use the fused kernels. With "
            "use_sdpa=True the attention gets use_sdpa=True, the LayerNorms are FusedLayerNorm and the MLP FusedMLP "
            "(mlp_cls, norm_cls); with use_sdpa=False L06's attention path and L05's own LayerNorm and MLP. Pass "
            "use_sdpa=config.use_sdpa to CausalSelfAttention, and mlp=mlp_cls(...) and norm=norm_cls to PreNormBlock"
        )


@pytest.mark.parametrize("use_sdpa", [False, True])
def test_block_is_causal_prenorm(use_sdpa):
    config = GPTConfig(vocab_size=20, block_size=8, n_layer=1, n_head=2, n_embd=16, use_sdpa=use_sdpa)
    torch.manual_seed(0)
    block = Block(config).eval()
    x = torch.randn(2, 8, 16, generator=_gen(2))
    h = x + block.attn(F.layer_norm(x, (16,), block.ln_1.weight, block.ln_1.bias))
    hidden = F.layer_norm(h, (16,), block.ln_2.weight, block.ln_2.bias)
    want = h + F.linear(F.gelu(F.linear(hidden, block.mlp.c_fc.weight, block.mlp.c_fc.bias), approximate="tanh"),
                        block.mlp.c_proj.weight, block.mlp.c_proj.bias)
    got = block(x)
    assert torch.allclose(got, want, atol=1e-5), (
        f"Block(use_sdpa={use_sdpa}) differs from x + attn(ln_1(x)); x + mlp(ln_2(x)) by {(got - want).abs().max():.2e}"
    )
    changed = x.clone()
    changed[:, 5:] += 1.0
    assert torch.equal(block(changed)[:, :5], got[:, :5]), "Block is not causal: later tokens changed earlier outputs"


# --- Stage 2: the model and its initialisation -------------------------------------------------------


def test_gpt_modules_and_names():
    config = GPTConfig(**CONFIGS[0])
    model = GPT(config)
    t = model.transformer
    assert isinstance(t, nn.ModuleDict) and set(t.keys()) == {"wte", "wpe", "drop", "h", "ln_f"}, (
        "model.transformer should be an nn.ModuleDict with wte, wpe, drop, h, ln_f (GPT-2's names)"
    )
    assert isinstance(t.h, nn.ModuleList) and len(t.h) == config.n_layer and all(isinstance(b, Block) for b in t.h), (
        f"transformer.h should be an nn.ModuleList of {config.n_layer} Blocks"
    )
    assert isinstance(t.ln_f, LayerNorm), "transformer.ln_f should be a LayerNorm (L05)"
    assert isinstance(model.lm_head, nn.Linear) and model.lm_head.bias is None, "lm_head should be nn.Linear(bias=False)"
    features = (model.lm_head.in_features, model.lm_head.out_features)
    assert features == (config.n_embd, config.vocab_size), (
        f"lm_head has (in_features, out_features) = {features}, expected (n_embd, vocab_size) = "
        f"{(config.n_embd, config.vocab_size)}: it reads a C-dim hidden state and scores every token, "
        "nn.Linear(config.n_embd, config.vocab_size, bias=False)"
    )
    assert model.lm_head.weight is t.wte.weight, (
        "lm_head.weight should BE transformer.wte.weight (weight tying: self.lm_head.weight = self.transformer.wte.weight)"
    )
    assert len({id(block) for block in t.h}) == config.n_layer, (
        "transformer.h holds the same Block several times, so every layer shares one set of weights: build "
        "n_layer separate Blocks, nn.ModuleList(Block(config) for _ in range(n_layer)), not [Block(config)] * n_layer"
    )
    hf_names = sorted(_hf_model(config).state_dict())
    assert sorted(model.state_dict()) == hf_names, (
        "the state dict names should be GPT-2's (Hugging Face's), got extra "
        f"{sorted(set(model.state_dict()) - set(hf_names))}, missing {sorted(set(hf_names) - set(model.state_dict()))}"
    )


def test_gpt2_initialisation():
    config = GPTConfig(vocab_size=512, block_size=64, n_layer=4, n_head=4, n_embd=64)
    torch.manual_seed(0)
    model = GPT(config)
    residual_std = 0.02 / math.sqrt(2 * config.n_layer)
    for name, p in model.named_parameters():
        if name.endswith("c_proj.weight"):
            want, why = residual_std, "residual projections (c_proj) ~ normal(0, 0.02 / sqrt(2 * n_layer))"
        elif p.dim() == 2:
            want, why = 0.02, "Linear and embedding weights ~ normal(0, 0.02)"
        elif name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or name.endswith("ln_f.weight"):
            assert torch.equal(p.data, torch.ones_like(p)), f"{name} should start at ones"
            continue
        else:
            assert torch.equal(p.data, torch.zeros_like(p)), f"{name} (a bias) should start at zeros"
            continue
        std = p.std().item()
        assert abs(std - want) < 0.1 * want and abs(p.mean().item()) < 0.2 * want, (
            f"{name} has std {std:.5f}, expected {want:.5f}: {why}"
        )
    torch.manual_seed(0)
    again = GPT(config)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values())), (
        "two models built after the same torch.manual_seed differ: initialise only from torch's global RNG"
    )


def test_gpt_without_biases():
    config = GPTConfig(**(CONFIGS[1] | dict(bias=False)))
    model = GPT(config)
    biases = sorted(name for name in model.state_dict() if name.endswith(".bias"))
    assert not biases, (
        f"GPTConfig(bias=False) should give a model without any bias, LayerNorms included; these remain: {biases}. "
        "Pass bias=config.bias to every Block part and to transformer.ln_f"
    )
    want = sorted(n for n in _hf_model(GPTConfig(**CONFIGS[1])).state_dict() if not n.endswith(".bias"))
    assert sorted(model.state_dict()) == want, (
        f"GPT(bias=False) should have GPT-2's weights without the biases, got extra "
        f"{sorted(set(model.state_dict()) - set(want))}, missing {sorted(set(want) - set(model.state_dict()))}"
    )
    logits, loss = model(_ids(config, B=2, T=5), _ids(config, B=2, T=5, seed=2))
    assert logits.shape == (2, 5, config.vocab_size) and loss.dim() == 0, "GPT(bias=False) should run forward like any GPT"


def test_init_weights_reinitialises_a_trained_model():
    config = GPTConfig(vocab_size=512, block_size=64, n_layer=4, n_head=4, n_embd=64)
    torch.manual_seed(0)
    model = GPT(config)
    with torch.no_grad():  # as if trained: every parameter far from its initial value
        for p in model.parameters():
            p.copy_(3.0 + 2.0 * torch.randn(p.shape, generator=_gen(1)))
    model.init_weights()
    residual_std = 0.02 / math.sqrt(2 * config.n_layer)
    for name, p in model.named_parameters():
        if name.endswith(("ln_1.weight", "ln_2.weight", "ln_f.weight")):
            assert torch.equal(p.data, torch.ones_like(p)), (
                f"after init_weights() on a trained model {name} is not all ones: init_weights must reset every "
                "LayerNorm (weight 1, bias 0), not rely on the values the constructor left"
            )
        elif p.dim() == 1:
            assert torch.equal(p.data, torch.zeros_like(p)), (
                f"after init_weights() on a trained model {name} is not all zeros: reset every bias (Linears and LayerNorms)"
            )
        else:
            want = residual_std if name.endswith("c_proj.weight") else 0.02
            std, mean = p.std().item(), p.mean().item()
            assert abs(std - want) < 0.1 * want and abs(mean) < 0.2 * want, (
                f"after init_weights() on a trained model {name} has mean {mean:.4f}, std {std:.5f}, expected "
                f"normal(0, {want:.5f}): init_weights must re-draw every Linear and embedding weight "
                "(wte AND wpe), then the c_proj weights with 0.02 / sqrt(2 * n_layer)"
            )
    assert model.lm_head.weight is model.transformer.wte.weight, "init_weights must keep lm_head tied to wte"


# --- Stage 3: the forward pass -----------------------------------------------------------------------


def test_forward_shapes():
    config = GPTConfig(**CONFIGS[0])
    model = GPT(config).eval()
    logits, loss = model(_ids(config, B=2, T=5))
    assert logits.shape == (2, 5, config.vocab_size), (
        f"logits should be (B, T, vocab_size) = (2, 5, {config.vocab_size}), got {tuple(logits.shape)}"
    )
    assert loss is None, "without targets, forward should return (logits, None)"
    with pytest.raises(ValueError):
        model(_ids(config, B=1, T=config.block_size + 1))


@pytest.mark.parametrize("index", range(len(CONFIGS)))
def test_logits_match_hf_gpt2(index):
    config = GPTConfig(**CONFIGS[index])
    hf = _hf_model(config, seed=index)
    model = _copy_from_hf(GPT(config), hf)
    for T in (config.block_size, 3):
        ids = _ids(config, T=T, seed=index)
        got, _ = model(ids)
        with torch.no_grad():
            want = hf(ids).logits
        assert torch.allclose(got, want, atol=1e-5), (
            f"logits differ from Hugging Face's GPT-2 ({CONFIGS[index]}, T={T}) by {(got - want).abs().max():.2e}: "
            "check token + position embeddings (positions 0..T-1), drop, every block, ln_f, lm_head"
        )


def test_later_tokens_do_not_change_earlier_logits():
    config = GPTConfig(**CONFIGS[0])
    torch.manual_seed(3)
    model = GPT(config).eval()
    ids = _ids(config, seed=3)
    changed = ids.clone()
    changed[:, 10:] = (changed[:, 10:] + 1) % config.vocab_size
    with torch.no_grad():
        a, b = model(ids)[0], model(changed)[0]
    assert torch.equal(a[:, :10], b[:, :10]), "changing tokens 10.. changed the logits at positions 0..9"


# --- Stage 4: the loss -------------------------------------------------------------------------------


def test_loss_matches_hf_gpt2():
    config = GPTConfig(**CONFIGS[0])
    hf = _hf_model(config, seed=4)
    model = _copy_from_hf(GPT(config), hf)
    ids = _ids(config, seed=4)
    # Hugging Face shifts the labels inside the model; our targets come already shifted (nanoGPT's way).
    logits, loss = model(ids[:, :-1], ids[:, 1:])
    with torch.no_grad():
        want = hf(ids, labels=ids).loss
    assert loss is not None and loss.dim() == 0, "with targets, forward should return a scalar loss"
    direct = F.cross_entropy(logits.reshape(-1, config.vocab_size), ids[:, 1:].reshape(-1))
    assert torch.allclose(loss, direct, atol=1e-6), (
        f"loss {loss.item():.6f} != F.cross_entropy(logits.view(-1, V), targets.view(-1)) = {direct.item():.6f}: "
        "targets are ALREADY shifted (targets[:, t] follows idx[:, t]): do not shift them again"
    )
    assert torch.allclose(loss, want, atol=1e-5), (
        f"loss {loss.item():.6f} differs from Hugging Face's {want.item():.6f}"
    )


def test_loss_ignores_minus_100():
    config = GPTConfig(**CONFIGS[0])
    torch.manual_seed(5)
    model = GPT(config).eval()
    ids = _ids(config, seed=5)
    targets = _ids(config, seed=6)
    targets[0, :7] = -100
    targets[2, 12:] = -100
    try:
        logits, loss = model(ids, targets)
    except IndexError as exc:
        raise AssertionError(
            f"forward failed on targets holding -100 ({exc}): -100 marks positions that do not count; pass "
            "ignore_index=-100 to F.cross_entropy so they are left out instead of read as token ids"
        ) from None
    keep = targets != -100
    want = F.cross_entropy(logits[keep], targets[keep])
    assert torch.allclose(loss, want, atol=1e-6), (
        f"with -100 targets the loss should average over the other positions only: got {loss.item():.6f}, "
        f"expected {want.item():.6f} (F.cross_entropy(..., ignore_index=-100))"
    )


def test_initial_loss_is_log_vocab():
    config = GPTConfig(vocab_size=200, block_size=32, n_layer=2, n_head=2, n_embd=32)
    torch.manual_seed(7)
    model = GPT(config)
    _, loss = model(_ids(config, B=4, seed=7), _ids(config, B=4, seed=8))
    assert abs(loss.item() - math.log(200)) < 0.05, (
        f"a freshly initialised GPT should predict nearly uniformly: loss {loss.item():.3f}, expected about "
        f"ln(200) = {math.log(200):.3f}: are the weights initialised with std 0.02?"
    )
    loss.backward()
    assert all(p.grad is not None for p in model.parameters()), "every parameter should receive a gradient"


# --- Stage 5: dropout --------------------------------------------------------------------------------


def test_dropout_where_gpt2_has_it():
    config = GPTConfig(**(CONFIGS[0] | dict(dropout=0.2)))
    model = GPT(config)
    ours = sorted(n for n, m in model.named_modules() if isinstance(m, nn.Dropout) and m.p == 0.2)
    theirs = sorted(n for n, m in _hf_model(config, dropout=0.2).named_modules() if isinstance(m, nn.Dropout))
    assert ours == theirs, f"dropout modules with p=0.2 should sit where GPT-2 has them: {theirs}, got {ours}"
    ids = _ids(config, B=2)
    for name in ours:  # switch on one dropout at a time: each must act on the output in training mode
        for other_name, module in model.named_modules():
            if isinstance(module, nn.Dropout):
                module.p = 0.5 if other_name == name else 0.0
        torch.manual_seed(0)
        train_out = model.train()(ids)[0]
        eval_out = model.eval()(ids)[0]
        assert not torch.allclose(train_out, eval_out), (
            f"dropout {name} has no effect in training mode: apply it in forward"
            + (" (the embedding dropout: drop(wte(idx) + wpe(T)))" if name == "transformer.drop" else "")
        )
    assert torch.equal(model.eval()(ids)[0], model.eval()(ids)[0]), "in eval mode the model must be deterministic"


@pytest.mark.parametrize("use_sdpa", [False, True])
def test_embedding_dropout_matches_hf_in_training(use_sdpa):
    config = GPTConfig(**(CONFIGS[0] | dict(dropout=0.5, use_sdpa=use_sdpa)))
    hf = _hf_model(config, seed=40, dropout=0.0)
    hf.transformer.drop.p = 0.5  # only the embedding dropout
    model = _copy_from_hf(GPT(config), hf)
    for name, module in model.named_modules():
        if isinstance(module, nn.Dropout) and name != "transformer.drop":
            module.p = 0.0
    ids = _ids(config, seed=40)
    torch.manual_seed(41)
    got = model.train()(ids)[0]
    torch.manual_seed(41)
    with torch.no_grad():
        want = hf.train()(ids).logits
    assert torch.allclose(got, want, atol=1e-5), (
        f"in training mode with only the embedding dropout on (p=0.5, the same seed), the logits differ from "
        f"Hugging Face's GPT-2 by {(got - want).abs().max():.2e}: GPT-2 drops out the SUM of both embeddings, "
        "once, before the first block: x = drop(wte(idx) + wpe(T)) (not drop(wte(idx)) + wpe(T), not after a block)"
    )


# --- Stage 6: counting parameters --------------------------------------------------------------------


def test_num_parameters():
    config = GPTConfig(**CONFIGS[1])
    model = GPT(config)
    hf_total = sum(p.numel() for p in _hf_model(config).parameters())
    total = model.num_parameters(non_embedding=False)
    assert total == hf_total, (
        f"num_parameters(non_embedding=False) = {total}, Hugging Face's GPT-2 has {hf_total}: the tied "
        "wte / lm_head matrix counts once (model.parameters() yields it once, state_dict() twice)"
    )
    wpe = config.block_size * config.n_embd
    assert model.num_parameters() == total - wpe, (
        f"num_parameters() = {model.num_parameters()}, expected {total - wpe}: leave out the position "
        "embeddings (wpe) only; the token embeddings are also the output layer and stay in"
    )
    with torch.device("meta"):  # GPT-2 small without allocating memory
        small = GPT(GPTConfig())
    assert (small.num_parameters(non_embedding=False), small.num_parameters()) == (124_439_808, 123_653_376), (
        f"GPT-2 small should have 124,439,808 parameters (123,653,376 without wpe), got "
        f"{small.num_parameters(non_embedding=False):,} ({small.num_parameters():,})"
    )


# --- Stage 7: Hugging Face weights -------------------------------------------------------------------


@pytest.mark.parametrize("index", range(len(CONFIGS)))
def test_load_hf_state_dict(index):
    config = GPTConfig(**CONFIGS[index])
    hf = _hf_model(config, seed=10 + index)
    model = GPT(config)
    model.load_hf_state_dict(hf.state_dict())
    ids = _ids(config, seed=index)
    got = model.eval()(ids)[0]
    with torch.no_grad():
        want = hf(ids).logits
    assert torch.allclose(got, want, atol=1e-5), (
        f"after load_hf_state_dict the logits differ from Hugging Face's by {(got - want).abs().max():.2e} "
        f"({CONFIGS[index]}): Conv1D weights are (in, out), transpose them into nn.Linear's (out, in)"
    )
    assert model.lm_head.weight is model.transformer.wte.weight, "loading must keep lm_head tied to wte"


def test_load_released_checkpoint_layout():
    config = GPTConfig(**CONFIGS[0])
    hf = _hf_model(config, seed=20)
    # The released GPT-2 files have bare keys (no "transformer."), no lm_head, and cached masks.
    released = {k.removeprefix("transformer."): v for k, v in hf.state_dict().items() if k != "lm_head.weight"}
    for i in range(config.n_layer):
        released[f"h.{i}.attn.bias"] = torch.ones(1, 1, config.block_size, config.block_size).tril()
        released[f"h.{i}.attn.masked_bias"] = torch.tensor(-1e4)
    model = GPT(config)
    model.load_hf_state_dict(released)
    ids = _ids(config, seed=20)
    with torch.no_grad():
        assert torch.allclose(model.eval()(ids)[0], hf(ids).logits, atol=1e-5), (
            "loading the released layout (bare keys h.0..., wte.weight; attn.bias buffers) gave wrong logits"
        )
    broken = dict(released)
    del broken["h.0.mlp.c_fc.bias"]
    with pytest.raises(ValueError):
        GPT(config).load_hf_state_dict(broken)


def test_load_hf_state_dict_copies_and_checks_every_key():
    config = GPTConfig(**CONFIGS[2])
    hf = _hf_model(config, seed=23)
    weights = {name: tensor.clone() for name, tensor in hf.state_dict().items()}
    model = GPT(config)
    model.load_hf_state_dict(weights)
    ids = _ids(config, seed=23)
    before = model.eval()(ids)[0]
    with torch.no_grad():
        for tensor in weights.values():
            tensor.zero_()  # the caller reuses its tensors: the model must not change with them
    after = model(ids)[0]
    assert torch.equal(before, after), (
        "changing the state dict after load_hf_state_dict changed the model: copy the values into the parameters "
        "(param.copy_(tensor) under torch.no_grad()), never param.data = tensor, which shares the caller's storage"
    )
    extra = dict(hf.state_dict()) | {"transformer.h.7.mlp.c_fc.weight": torch.zeros(config.n_embd, 4 * config.n_embd)}
    with pytest.raises(ValueError):
        GPT(config).load_hf_state_dict(extra)
        pytest.fail("load_hf_state_dict accepted an unexpected key (transformer.h.7... in a 1-layer model): "
                    "raise ValueError naming the unexpected keys, a checkpoint of another model must not load silently")
    longer = dict(hf.state_dict()) | {"transformer.wpe.weight": torch.zeros(config.block_size + 4, config.n_embd)}
    try:
        GPT(config).load_hf_state_dict(longer)
    except ValueError:
        pass
    except Exception as exc:  # noqa: BLE001
        raise AssertionError(
            f"a checkpoint with {config.block_size + 4} positions loaded into block_size {config.block_size} raised "
            f"{type(exc).__name__}: compare each tensor's shape with the parameter's first and raise ValueError "
            "naming the key and both shapes"
        ) from None
    else:
        raise AssertionError("load_hf_state_dict accepted transformer.wpe.weight of the wrong shape: raise ValueError")


def test_hf_state_dict_round_trip():
    config = GPTConfig(**CONFIGS[1])
    torch.manual_seed(21)
    model = GPT(config).eval()
    exported = model.hf_state_dict()
    hf = _hf_model(config, seed=22)
    reference = hf.state_dict()
    assert sorted(exported) == sorted(reference), "hf_state_dict() should have exactly GPT2LMHeadModel's keys"
    for name, tensor in exported.items():
        assert tensor.shape == reference[name].shape, (
            f"{name}: exported shape {tuple(tensor.shape)}, Hugging Face expects {tuple(reference[name].shape)} "
            "(Conv1D weights are (in, out))"
        )
    hf.load_state_dict(exported)
    ids = _ids(config, seed=21)
    with torch.no_grad():
        assert torch.allclose(hf(ids).logits, model(ids)[0], atol=1e-5), "Hugging Face's GPT-2 with our exported weights gives other logits"
    again = GPT(config)
    again.load_hf_state_dict(exported)
    for name, tensor in model.state_dict().items():
        assert torch.equal(again.state_dict()[name], tensor), f"the round trip changed {name}: it must be exact"


def test_from_hf_dir(tmp_path):
    config = GPTConfig(**CONFIGS[0])
    hf = _hf_model(config, seed=30)
    hf.save_pretrained(tmp_path / "safetensors")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "config.json").write_text((tmp_path / "safetensors" / "config.json").read_text())
    torch.save(hf.state_dict(), tmp_path / "bin" / "pytorch_model.bin")
    ids = _ids(config, seed=30)
    with torch.no_grad():
        want = hf(ids).logits
    for folder in ("safetensors", "bin"):
        model = GPT.from_hf_dir(tmp_path / folder)
        assert (model.config.vocab_size, model.config.block_size, model.config.n_layer, model.config.n_head,
                model.config.n_embd) == (61, 16, 2, 4, 32), f"from_hf_dir read the config wrong: {model.config}"
        assert not model.training, "from_hf_dir should return the model in eval mode"
        got = model(ids)[0]
        assert torch.allclose(got, want, atol=1e-5), (
            f"GPT.from_hf_dir({folder}) gives logits off by {(got - want).abs().max():.2e}"
        )
