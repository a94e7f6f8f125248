"""Specs for lesson 8, stages 8-11: a training step with accumulation, evaluation in bits per byte,
atomic checkpoints, and a resumed run that continues the identical loss curve.

Oracles: one big batch for k micro-batches, the GPT's own ``forward(idx, targets)`` loss (F.cross_entropy)
for evaluation, ``torch.save``/``torch.load`` round trips, and a run that was never interrupted.
"""
from __future__ import annotations

import math
import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ..l01.bpe import RegexTokenizer
from ..l07.gpt import GPT, GPTConfig
from ..spec_helpers import raises_value_error
from . import train as train_module
from .data import encode_corpus
from .optim import AdamW, lm_loss
from .train import (
    TrainConfig,
    bits_per_byte,
    capture_rng,
    count_bytes,
    evaluate,
    load_checkpoint,
    load_model,
    restore_rng,
    save_checkpoint,
    train,
    train_step,
)


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _gpt(seed: int = 0, dropout: float = 0.0, dtype=torch.float64) -> GPT:
    torch.manual_seed(seed)
    return GPT(GPTConfig(vocab_size=37, block_size=16, n_layer=2, n_head=2, n_embd=16, dropout=dropout)).to(dtype)


def _flat(model: torch.nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in model.parameters()])


# --- Stage 8: a training step with gradient accumulation ---------------------------------------------


def test_accumulated_micro_batches_equal_one_big_batch():
    x = torch.randint(37, (8, 12), generator=_gen(1))
    y = torch.randint(37, (8, 12), generator=_gen(2))
    big, small = _gpt(), _gpt()
    big_loss = train_step(big, torch.optim.SGD(big.parameters(), lr=0.5), [(x, y)])
    micro = [(x[i : i + 2], y[i : i + 2]) for i in range(0, 8, 2)]
    small_loss = train_step(small, torch.optim.SGD(small.parameters(), lr=0.5), micro)
    with torch.no_grad():
        want = lm_loss(_gpt()(x)[0], y).item()
    assert isinstance(big_loss, float) and math.isclose(big_loss, want, rel_tol=1e-9), (
        f"train_step should return the batch's mean loss before the update, {want:.6f}; got {big_loss!r}"
    )
    assert math.isclose(small_loss, want, rel_tol=1e-9), (
        f"with 4 micro-batches train_step returned {small_loss:.6f}, expected the same mean loss {want:.6f} "
        "(the sum of the 4 divided losses)"
    )
    diff = (_flat(big) - _flat(small)).abs().max().item()
    ratio = ((_flat(small) - _flat(_gpt())).norm() / (_flat(big) - _flat(_gpt())).norm()).item()
    assert diff < 1e-10, (
        f"4 micro-batches of 2 gave another SGD update than 1 batch of 8 (max difference {diff:.2e}; the "
        f"update is {ratio:.2f}x as large): "
        + ("divide each micro-batch's loss by k before backward(): the gradients add up, so k undivided "
           "losses give k times the gradient" if abs(ratio - 4) < 0.1 else
           "call backward() on every micro-batch and step once at the end (no zero_grad in between)")
    )  # fmt: skip


def test_train_step_clips_the_global_gradient_norm():
    x = torch.randint(37, (4, 12), generator=_gen(3))
    y = torch.randint(37, (4, 12), generator=_gen(4))
    model = _gpt()
    train_step(model, torch.optim.SGD(model.parameters(), lr=1.0), [(x[:2], y[:2]), (x[2:], y[2:])], grad_clip=1e-3)
    oracle = _gpt()  # the whole batch's gradient, clipped by PyTorch, one SGD step
    F.cross_entropy(oracle(x)[0].reshape(-1, 37), y.reshape(-1)).backward()
    torch.nn.utils.clip_grad_norm_(oracle.parameters(), 1e-3)
    torch.optim.SGD(oracle.parameters(), lr=1.0).step()
    moved = (_flat(model) - _flat(_gpt())).norm().item()
    assert moved == pytest.approx(1e-3, rel=1e-3), (
        f"with grad_clip=1e-3 and SGD(lr=1), the update's norm should be 1e-3 (the clipped gradient), got "
        f"{moved:.3e}: call clip_grad_norm(model.parameters(), grad_clip) before optimizer.step()"
    )
    diff = (_flat(model) - _flat(oracle)).abs().max().item()
    assert diff < 1e-12, (
        f"the clipped update differs from clipping the whole batch's gradient (max difference {diff:.2e}): "
        "clip once, after ALL micro-batches' backward(), not each micro-batch on its own"
    )


def test_train_step_leaves_no_gradient_behind():
    x = torch.randint(37, (2, 8), generator=_gen(5))
    model = _gpt()
    optimizer = AdamW(model.parameters(), lr=1e-2)
    train_step(model, optimizer, [(x, x)])
    leftover = [name for name, p in model.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0]
    assert not leftover, (
        f"after train_step these parameters still hold gradients: {leftover[:3]}...; call "
        "optimizer.zero_grad(set_to_none=True) after the step, or the next step adds onto them"
    )


def test_train_step_with_grad_clip_zero_does_not_clip():
    x = torch.randint(37, (4, 12), generator=_gen(6))
    y = torch.randint(37, (4, 12), generator=_gen(7))
    model = _gpt()
    train_step(model, torch.optim.SGD(model.parameters(), lr=0.5), [(x[:2], y[:2]), (x[2:], y[2:])], grad_clip=0.0)
    oracle = _gpt()
    F.cross_entropy(oracle(x)[0].reshape(-1, 37), y.reshape(-1)).backward()
    torch.optim.SGD(oracle.parameters(), lr=0.5).step()
    moved = (_flat(model) - _flat(_gpt())).norm().item()
    diff = (_flat(model) - _flat(oracle)).abs().max().item()
    assert diff < 1e-10, (
        f"with grad_clip=0 the update should be the plain gradient step (moved {moved:.3e}, max difference "
        f"{diff:.2e} from the oracle): 0 turns clipping off, so clip only when grad_clip > 0"
    )
    kept = [name for name, p in model.named_parameters() if p.grad is not None]
    assert not kept, (
        f"after train_step {kept[:3]}... hold zero-filled gradients: call optimizer.zero_grad(set_to_none=True), "
        "which frees them (None) instead of keeping a tensor of zeros per parameter"
    )


# --- Stage 9: evaluation and bits per byte -----------------------------------------------------------


def _oracle_loss(model: GPT, data: np.ndarray, block: int) -> float:
    """The whole stream in consecutive windows, each scored with the model's own forward(idx, targets)."""
    stream = torch.from_numpy(data.astype(np.int64))
    total, count = 0.0, 0
    with torch.no_grad():
        for start in range(0, len(stream) - 1, block):
            x = stream[start : start + block][None]
            y = stream[start + 1 : start + block + 1][None]
            x = x[:, : y.shape[1]]
            total += model(x, y)[1].item() * y.numel()
            count += y.numel()
    return total / count


def test_evaluate_scores_the_whole_split():
    data = np.random.default_rng(0).integers(0, 37, 150).astype(np.uint16)  # 149 predictions: 9 windows of 16 + 5
    model = _gpt(dtype=torch.float32)
    got = evaluate(model, data, batch_size=4, block_size=16)
    want = _oracle_loss(model, data, 16)
    assert isinstance(got, float), f"evaluate should return a float, got {type(got).__name__}"
    mean_of_batches = None
    assert math.isclose(got, want, rel_tol=1e-5), (
        f"evaluate gave {got:.6f}, expected {want:.6f}: cut the stream into consecutive windows "
        "(x = data[s : s + block], y = data[s + 1 : s + block + 1], s = 0, block, 2 block, ...), keep the "
        "short last window, and weigh each window by its number of tokens (sum of losses / 149), not a mean "
        f"of batch means{mean_of_batches or ''}"
    )


def test_evaluate_uses_eval_mode_and_restores_the_mode():
    data = np.random.default_rng(1).integers(0, 37, 200).astype(np.uint16)
    model = _gpt(dropout=0.5, dtype=torch.float32).train()
    first = evaluate(model, data, batch_size=4, block_size=16)
    second = evaluate(model, data, batch_size=4, block_size=16)
    assert first == second, (
        f"two evaluations gave {first} and {second}: dropout was on; call model.eval() before scoring"
    )
    assert model.training, "evaluate left the model in eval mode: put back the mode it had (model.train(was_training))"
    model.eval()
    want = _oracle_loss(model, data, 16)
    assert math.isclose(first, want, rel_tol=1e-5), f"evaluate gave {first:.6f}, expected {want:.6f} (eval mode)"
    assert evaluate(model, data, 4, 16) and not model.training, "evaluate switched an eval-mode model to training mode"


def test_evaluate_any_stream_length():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    model = _gpt(dtype=torch.float32)
    evaluate(model, np.zeros(3, dtype=np.uint16), batch_size=2, block_size=4)  # on a stub, fail here

    @settings(max_examples=15, report_multiple_bugs=False)
    @given(block=st.integers(1, 16), windows=st.integers(0, 5), extra=st.integers(0, 15), batch_size=st.integers(1, 4))
    def check(block, windows, extra, batch_size):
        length = windows * block + extra % block + 1  # every tail: none (an exact multiple), short, one token
        if length < 2:
            length = 2
        data = np.random.default_rng(length).integers(0, 37, length).astype(np.uint16)
        got = evaluate(model, data, batch_size=batch_size, block_size=block)
        want = _oracle_loss(model, data, block)
        assert math.isclose(got, want, rel_tol=1e-5), (
            f"evaluate of a stream of {length} tokens (block_size {block}: {(length - 1) // block} full windows and "
            f"a last one of {(length - 1) % block} predictions) gave {got!r}, expected {want:.6f}: add the short "
            "last window only when it holds a prediction, and divide by len(data) - 1"
        )

    check()


def test_evaluate_with_iters_averages_random_batches():
    from .data import get_batch

    data = np.random.default_rng(2).integers(0, 37, 500).astype(np.uint16)
    model = _gpt(dtype=torch.float32)
    got = evaluate(model, data, batch_size=3, block_size=8, iters=5, generator=_gen(9))
    g = _gen(9)
    with torch.no_grad():
        want = sum(lm_loss(model(x)[0], y).item() for x, y in (get_batch(data, 3, 8, g) for _ in range(5))) / 5
    assert math.isclose(got, want, rel_tol=1e-6), (
        f"evaluate(iters=5, generator=g) gave {got:.6f}, expected {want:.6f}: the mean loss of 5 get_batch "
        "batches drawn with the given generator"
    )
    model.train()
    evaluate(model, data, batch_size=3, block_size=8, iters=2, generator=_gen(9))
    assert model.training, (
        "evaluate(iters=...) left a training model in eval mode: put back the mode it had in this branch too "
        "(model.train(was_training) before returning)"
    )
    model.eval()
    evaluate(model, data, batch_size=3, block_size=8, iters=2, generator=_gen(9))
    assert not model.training, (
        "evaluate(iters=...) switched an eval-mode model to training mode: put back the mode it HAD "
        "(model.train(was_training)), not model.train()"
    )
    with raises_value_error(".", "evaluate(iters=2) without a generator should raise ValueError (it has no seeded batches to draw)"):
        evaluate(model, data, batch_size=3, block_size=8, iters=2)


class _DeviceProbe(torch.nn.Module):
    """A model on the "meta" device (tensors with a shape and no data, on any machine) that notes where its inputs are."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.empty(37, device="meta"))
        self.seen: list[str] = []

    def forward(self, idx: torch.Tensor):
        self.seen.append(idx.device.type)
        return self.weight.expand(*idx.shape, 37), None  # (B, T, 37) logits, on meta


def test_evaluate_moves_the_windows_to_the_models_device():
    data = np.random.default_rng(3).integers(0, 37, 40).astype(np.uint16)
    for iters, generator in ((None, None), (2, _gen(0))):
        probe = _DeviceProbe()
        try:
            evaluate(probe, data, batch_size=2, block_size=8, iters=iters, generator=generator)
        except Exception:  # noqa: BLE001 - meta tensors hold no numbers: reading the loss fails, after the model ran
            if not probe.seen:
                raise
        assert probe.seen and set(probe.seen) == {"meta"}, (
            f"evaluate(iters={iters}) gave the model inputs on {sorted(set(probe.seen))}, but its parameters are on "
            "'meta': move every window to the model's device, device = next(model.parameters()).device (on a GPU "
            "the model cannot read CPU inputs)" + (": pass it to get_batch" if iters else ": stream.to(device)")
        )


def test_bits_per_byte_values():
    cases = [
        ((math.log(2), 10, 20), 0.5),  # 1 bit per token, 2 bytes per token
        ((math.log(256), 1000, 1000), 8.0),  # uniform over 256 bytes: 8 bits per byte
        ((4.0, 36_000, 92_000), 4.0 * 36_000 / 92_000 / math.log(2)),
    ]
    for args, want in cases:
        got = bits_per_byte(*args)
        hint = "bits = nats / ln 2, and per byte = total over n_bytes: loss * n_tokens / n_bytes / ln 2"
        if math.isclose(got, want * math.log(2), rel_tol=1e-9):
            hint = "that is nats per byte: divide by ln 2 to get bits"
        elif math.isclose(got, args[0] * args[2] / args[1] / math.log(2), rel_tol=1e-9):
            hint = "the ratio is upside down: multiply by n_tokens / n_bytes"
        assert math.isclose(got, want, rel_tol=1e-9), f"bits_per_byte{args} = {got!r}, expected {want!r}: {hint}"


def test_count_bytes_counts_utf8_bytes():
    tokenizer = RegexTokenizer()
    text = "Señor café: naïve 東京 😀 and plain ASCII text, repeated. " * 5
    tokenizer.train(text, 300)
    ids = tokenizer.encode_ordinary(text)
    got = count_bytes(tokenizer, ids)
    assert got == len(text.encode("utf-8")), (
        f"count_bytes gave {got}, the text has {len(text.encode('utf-8'))} UTF-8 bytes ({len(text)} characters, "
        f"{len(ids)} tokens): add up len(tokenizer.vocab[i]) (bytes) over the ids"
    )
    assert count_bytes(tokenizer, np.array(ids, dtype=np.uint16)) == got, "count_bytes should accept a numpy array of ids too"
    try:
        none = count_bytes(tokenizer, [])
    except IndexError as exc:
        raise AssertionError(
            f"count_bytes(tokenizer, []) failed: {exc}. No ids stand for 0 bytes; np.asarray([]) is a float array, "
            "so give it a dtype (np.asarray(ids, dtype=np.int64)) before indexing with it"
        ) from None
    assert none == 0, f"count_bytes(tokenizer, []) gave {none!r}, expected 0"


# --- Stage 10: checkpoints ---------------------------------------------------------------------------


def _state(seed: int) -> dict:
    g = _gen(seed)
    return {"model": {"w": torch.randn(64, 64, generator=g)}, "step": seed, "history": [{"step": 1, "loss": 2.5}]}


def _same(a: dict, b: dict) -> bool:
    return torch.equal(a["model"]["w"], b["model"]["w"]) and a["step"] == b["step"] and a["history"] == b["history"]


def test_checkpoint_round_trip(tmp_path):
    path = tmp_path / "run" / "ckpt.pt"
    save_checkpoint(path, _state(1))
    assert path.is_file(), f"save_checkpoint did not create {path} (create the folder if it is missing)"
    assert _same(load_checkpoint(path), _state(1)), "load_checkpoint(save_checkpoint(state)) is not the same state"
    deep = tmp_path / "runs" / "a" / "b" / "ckpt.pt"  # none of runs/a/b exists yet
    try:
        save_checkpoint(str(deep), _state(2))
        back = load_checkpoint(str(deep))
    except (FileNotFoundError, AttributeError, TypeError) as exc:
        raise AssertionError(
            f"save_checkpoint/load_checkpoint with the str path {str(deep)!r} failed ({type(exc).__name__}: {exc}): "
            "take str or Path (path = Path(path)) and create the missing folders with their parents "
            "(path.parent.mkdir(parents=True, exist_ok=True))"
        ) from None
    assert _same(back, _state(2)), "a checkpoint saved and loaded through str paths is not the same state"
    on_meta = load_checkpoint(deep, map_location="meta")["model"]["w"]
    assert on_meta.device.type == "meta", (
        f"load_checkpoint(path, map_location='meta') put the tensors on {on_meta.device}: pass map_location on to "
        "torch.load (a GPU checkpoint must load on a CPU-only machine with map_location='cpu')"
    )


class _FailsWhenSaved:
    """Pickling it fails as a full disk would: after torch.save has opened (and so truncated) its file."""

    def __reduce__(self):
        raise OSError(28, "No space left on device (simulated half-way through the save)")


def test_an_interrupted_save_keeps_the_previous_checkpoint(tmp_path):
    path = tmp_path / "ckpt.pt"
    save_checkpoint(path, _state(1))
    with pytest.raises(OSError):
        save_checkpoint(path, _state(2) | {"poison": _FailsWhenSaved()})
    try:
        survivor = load_checkpoint(path)
    except Exception as exc:  # noqa: BLE001 - any failure here means the old checkpoint was destroyed
        raise AssertionError(
            f"a save that failed half-way destroyed the previous checkpoint ({type(exc).__name__}): write to a "
            "temporary file in the same folder, fsync it, then os.replace(temporary, path)"
        ) from None
    assert _same(survivor, _state(1)), "after a failed save, the file should still hold the previous checkpoint"
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name != "ckpt.pt")
    assert not leftovers, f"the failed save left {leftovers} behind: remove the temporary file when the write fails"


def test_load_checkpoint_explains_a_corrupt_file(tmp_path):
    path = tmp_path / "ckpt.pt"
    save_checkpoint(path, _state(3))
    path.write_bytes(path.read_bytes()[:300])  # truncated
    with pytest.raises(ValueError, match="ckpt.pt"):
        load_checkpoint(path)
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing.pt")


class _VanishesWhenSaved:
    """Pickling it removes every file of its folder but ckpt.pt (the save's temporary file too), then fails."""

    def __init__(self, folder) -> None:
        self.folder = folder

    def __reduce__(self):
        for file in self.folder.iterdir():
            if file.name != "ckpt.pt" and file.is_file():
                file.unlink()
        raise OSError(28, "No space left on device (simulated, after the temporary file was removed)")


def test_a_failed_save_raises_its_own_error(tmp_path):
    path = tmp_path / "ckpt.pt"
    save_checkpoint(path, _state(1))
    with pytest.raises(OSError) as caught:
        save_checkpoint(path, _state(2) | {"poison": _VanishesWhenSaved(tmp_path)})
    assert "No space left" in str(caught.value), (
        f"the save failed with a full disk, but save_checkpoint raised {type(caught.value).__name__}: {caught.value}. "
        "Re-raise the error that stopped the write; removing a temporary file that is already gone must not raise "
        "a second error (partial.unlink(missing_ok=True))"
    )
    assert _same(load_checkpoint(path), _state(1)), "after a failed save, the file should still hold the previous checkpoint"


class Payload:
    """An object whose unpickling could run code: a checkpoint must not hold one."""

    def __reduce__(self):
        return (os.getcwd, ())


def test_load_checkpoint_refuses_pickled_objects(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"model": {}, "payload": Payload()}, path)
    with pytest.raises(ValueError):
        load_checkpoint(path)  # weights_only=True refuses anything but tensors, numbers, strings, lists, dicts


def test_rng_states_round_trip():
    generator = _gen(5)
    torch.manual_seed(11)
    state = capture_rng(generator)
    want = (torch.rand(3), torch.randint(100, (3,), generator=generator))
    torch.manual_seed(99)
    generator.manual_seed(99)
    restore_rng(state, generator)
    got = (torch.rand(3), torch.randint(100, (3,), generator=generator))
    assert torch.equal(got[0], want[0]), "after restore_rng the global torch generator (dropout) draws other numbers"
    assert torch.equal(got[1], want[1]), "after restore_rng the batch generator draws other offsets"


# --- Stage 11: training and resuming -----------------------------------------------------------------


def _config(tmp_path, name: str, **changes) -> TrainConfig:
    text_path = tmp_path / "shakespeare.txt"
    if not text_path.exists():
        text = (train_module.COURSE_ROOT / "data" / "tinyshakespeare.txt").read_text(encoding="utf-8")
        text_path.write_text(text[:20_000], encoding="utf-8")
    settings = dict(
        data_path=str(text_path), vocab_size=300, n_layer=1, n_head=2, n_embd=16, block_size=16, dropout=0.1,
        batch_size=4, max_steps=8, warmup_steps=2, eval_interval=4, max_lr=1e-2, min_lr=1e-3, device="cpu",
        cache_dir=str(tmp_path / "cache"), out_dir=str(tmp_path / name), plot=False, verbose=False, seed=3,
    )  # fmt: skip
    return TrainConfig(**(settings | changes))


def test_resume_continues_the_identical_loss_curve(tmp_path):
    straight = train(_config(tmp_path, "straight"))
    losses = [record["loss"] for record in straight["steps"]]
    assert len(losses) == 8 and losses[-1] < losses[0], f"8 steps should lower the loss, got {losses}"
    train(_config(tmp_path, "resumed", stop_at=4))
    checkpoint = load_checkpoint(tmp_path / "resumed" / "ckpt.pt")
    missing = {"model", "optimizer", "step", "rng", "config", "train_config", "tokenizer_dir", "history"} - set(checkpoint)
    assert not missing and checkpoint["step"] == 4, f"the checkpoint after 4 steps lacks {sorted(missing)} (step {checkpoint.get('step')})"
    resumed = train(_config(tmp_path, "resumed", resume=True))
    got = [record["loss"] for record in resumed["steps"]]
    assert got == losses, (
        "8 steps straight and 4 + save + load + 4 gave different losses:\n"
        f"  straight: {[round(v, 6) for v in losses]}\n  resumed:  {[round(v, 6) for v in got]}\n"
        "the checkpoint must restore the model, the optimizer's moments, the step (the schedule) and the RNG "
        "states: the batch generator (which windows come next) and torch's global one (dropout)"
    )
    evals = [round(e["val_bpb"], 9) for e in resumed["evals"]]
    assert evals == [round(e["val_bpb"], 9) for e in straight["evals"]], f"the evaluations differ after resuming: {evals}"


SHAKESPEARE_IDS = 460_578  # the shipped tokenizer encodes data/tinyshakespeare.txt into this many ids


def test_shipped_model_reaches_the_target(tmp_path):
    """The course's shipped checkpoint, scored by YOUR evaluate on the whole validation split.

    The validation split is the last ``len(ids) - int(len(ids) * 0.9)`` ids of the text. Encoding the whole text
    would take most of this spec's time, so only its tail is encoded: the pre-tokenizer never puts a blank line and
    the letter after it in one chunk, so the ids of the text from such a point on are the last ids of the whole
    text's, the validation split among them.
    """
    folder = train_module.COURSE_ROOT / "data" / "checkpoints" / "shakespeare"
    model, tokenizer = load_model(folder)
    assert (folder / "model.pt").stat().st_size < 8 * 2**20, "the shipped model.pt should stay a few MB"
    config = load_checkpoint(folder / "model.pt")["train_config"]
    text = (train_module.COURSE_ROOT / config["data_path"]).read_text(encoding="utf-8")
    start = text.rindex("\n\n", 0, int(len(text) * 0.88)) + 2  # some 20,000 characters before the split, at a name
    tail = tmp_path / "tail.txt"
    tail.write_text(text[start:], encoding="utf-8")
    n_val = SHAKESPEARE_IDS - int(SHAKESPEARE_IDS * (1.0 - config["val_fraction"]))
    n_tail = sum(len(part) for part in encode_corpus(tail, tokenizer, tmp_path, 0.5))
    assert n_tail > n_val, f"the last {len(text) - start} characters of the text encode to {n_tail} ids, expected over {n_val}"
    _, val = encode_corpus(tail, tokenizer, tmp_path, (n_val - 0.5) / n_tail)  # the same cache: no second encoding
    assert len(val) == n_val, (
        f"encode_corpus(val_fraction={(n_val - 0.5) / n_tail!r}) of {n_tail} ids gave {len(val)} validation ids, expected "
        f"{n_val}: split = int(len(ids) * (1 - val_fraction))"
    )
    loss = evaluate(model, val, batch_size=64, block_size=model.config.block_size)
    bpb = bits_per_byte(loss, len(val) - 1, count_bytes(tokenizer, val[1:]))
    assert bpb <= 2.30, f"the shipped model scores {bpb:.4f} bits per byte on the validation split, the target is 2.30"
    assert F.softmax(model(torch.tensor([tokenizer.encode_ordinary("ROMEO:")]))[0][0, -1], -1).sum() > 0.99
