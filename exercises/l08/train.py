"""Lesson 8, part 3: the training loop, evaluation and checkpoints, and the ``train`` command.

    python -m exercises.l08.train                      # the course's recipe on Tiny Shakespeare (your code)
    python -m solutions.l08.train                      # the same with the reference
    python -m exercises.l08.train --max-steps 200 --device cpu --out runs/quick
    python -m exercises.l08.train --out runs/shakespeare --resume     # continue where a run stopped

One optimizer step (``train_step``): k micro-batches, each loss divided by k, gradients summed by
``backward``; clip the global gradient norm; AdamW step at the scheduled learning rate. Every
``eval_interval`` steps: the mean validation loss in nats per token and in bits per byte, a checkpoint
(model, optimizer, step, RNG states, configs) written atomically, and the loss curve ``loss.png``.

The shipped model (data/checkpoints/shakespeare) is this command with its defaults:

    python -m solutions.l08.train --out data/checkpoints/shakespeare --ship
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import inspect
import math
import os
import re
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch

from ..l01.bpe import RegexTokenizer
from ..l07.gpt import GPT, GPTConfig
from .data import encode_corpus, get_batch
from .optim import AdamW, clip_grad_norm, lm_loss, lr_at, param_groups

COURSE_ROOT = Path(__file__).resolve().parents[2]
Config = TypeVar("Config")  # a dataclass of command-line options


class RunError(ValueError):
    """A run that cannot start from what it was given (its text, its checkpoint): the command line says it in one line."""


@dataclass
class TrainConfig:
    """Every knob of a training run. The defaults are the course's recipe: Tiny Shakespeare, validation
    <= 2.30 bits per byte in under 5 minutes on 2 CPU cores (see exercises/l08/README.md, "The recipe")."""

    # data and tokenizer
    data_path: str = "data/tinyshakespeare.txt"  # relative paths are tried in the working folder, then the course's
    vocab_size: int = 1024  # a BPE of this size is trained (L01) on the training split of the text
    tokenizer_dir: str | None = None  # a saved tokenizer to use instead of training one (e.g. data/gpt2)
    val_fraction: float = 0.1  # the last 10% of the tokens is the validation split
    cache_dir: str = "runs/cache"  # encoded token streams (.npy), keyed by text and tokenizer
    # model (GPTConfig)
    n_layer: int = 4  # transformer blocks
    n_head: int = 4  # attention heads per block (n_embd must divide by it)
    n_embd: int = 128  # the width of the residual stream
    block_size: int = 128  # the context: the longest sequence the model sees
    dropout: float = 0.0  # dropout probability in training (0 on a model this small)
    bias: bool = True  # biases in the Linear layers and LayerNorms
    # optimisation
    batch_size: int = 16  # sequences per micro-batch
    grad_accum_steps: int = 1  # micro-batches per optimizer step
    max_steps: int = 1500  # optimizer steps in all
    max_lr: float = 3e-3  # the learning rate after warmup
    min_lr: float = 3e-4  # the floor the cosine decays to at max_steps
    warmup_steps: int = 100  # steps of linear warmup up to max_lr
    weight_decay: float = 0.1  # AdamW's decoupled decay, on Linear weights only (not biases, norms, embeddings)
    beta1: float = 0.9  # AdamW's first-moment decay
    beta2: float = 0.99  # AdamW's second-moment decay
    grad_clip: float = 1.0  # 0 turns clipping off
    # evaluation, checkpoints, run
    eval_interval: int = 250  # evaluate, plot and checkpoint every this many steps, and at the end
    eval_iters: int | None = None  # None: the whole validation split; k: k random batches (an estimate)
    out_dir: str = "runs/shakespeare"  # checkpoints, loss.png and the tokenizer go here
    seed: int = 1337  # seeds the initialisation and the batches: the same seed gives the same run
    device: str = "auto"  # auto | cpu | cuda | mps
    threads: int | None = None  # torch CPU threads (None: torch's default, one per core)
    resume: bool = False  # continue from out_dir/ckpt.pt
    stop_at: int | None = None  # stop after this step as if interrupted (the schedule still spans max_steps)
    ship: bool = False  # write out_dir/model.pt (half-precision weights, no optimizer) instead of ckpt.pt
    plot: bool = True  # write out_dir/loss.png
    verbose: bool = True  # progress bar and evaluation lines

    def __post_init__(self):
        positive = ("n_layer", "n_head", "n_embd", "block_size", "batch_size", "grad_accum_steps", "max_steps", "eval_interval")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not 0 <= self.warmup_steps <= self.max_steps:
            raise ValueError(f"need 0 <= warmup_steps <= max_steps, got warmup_steps={self.warmup_steps}, max_steps={self.max_steps}")
        if not 0.0 <= self.min_lr <= self.max_lr:
            raise ValueError(f"need 0 <= min_lr <= max_lr, got min_lr={self.min_lr}, max_lr={self.max_lr}")


# ----------------------------------------------------------------------------------------------------
# Stage: one optimizer step with gradient accumulation


def train_step(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    micro_batches: list[tuple[torch.Tensor, torch.Tensor]],
    grad_clip: float = 0.0,
) -> float:
    """One optimizer step over k micro-batches of (x, y), each (B, T): the same update as one batch k times
    larger (when the micro-batches have equal sizes). Returns the mean loss over the k micro-batches.

    The big batch's loss is the MEAN over its k parts, so each part's loss is divided by k before
    ``backward`` (gradients add up in ``.grad``). Then, if ``grad_clip`` > 0, ``clip_grad_norm`` of all
    parameters to ``grad_clip``; then ``optimizer.step()`` and ``optimizer.zero_grad(set_to_none=True)``.
    The model's logits come from ``model(x)``; the loss is ``lm_loss(logits, y)``.

    >>> loss = train_step(model, optimizer, [get_batch(train, 16, 64, g) for _ in range(4)], grad_clip=1.0)
    """
    raise NotImplementedError('L08 train_step() is not implemented yet: write it in exercises/l08/train.py (stuck? run: llmfs hint L08)')


# ----------------------------------------------------------------------------------------------------
# Stage: evaluation and bits per byte


@torch.no_grad()
def evaluate(
    model: torch.nn.Module,
    data: np.ndarray,
    batch_size: int,
    block_size: int,
    iters: int | None = None,
    generator: torch.Generator | None = None,
) -> float:
    """The mean loss (nats per token) of ``model`` on a token stream, in eval mode, without gradients.

    - ``iters=None``: the WHOLE stream, cut into consecutive windows of ``block_size`` (the last one
      shorter), ``batch_size`` windows at a time; every token after the first is predicted exactly once,
      and the mean is over all ``len(data) - 1`` predictions (a token-weighted mean, so the short last
      window counts for what it holds).
    - ``iters=k``: the mean of k ``get_batch`` batches drawn with ``generator`` (nanoGPT's estimate); without
      a generator, ValueError.

    The model's mode is put back afterwards (training stays training, eval stays eval). Windows go to the
    model's device (that of its first parameter).

    >>> evaluate(model, val, batch_size=32, block_size=128)              # exact, deterministic
    3.91...
    """
    raise NotImplementedError('L08 evaluate() is not implemented yet: write it in exercises/l08/train.py (stuck? run: llmfs hint L08)')


def count_bytes(tokenizer, ids) -> int:
    """How many bytes of text the token ids stand for: the sum of ``len(tokenizer.vocab[i])``. ``ids`` may be
    a list or a NumPy array (a memmap of encode_corpus); no ids stand for 0 bytes.

    >>> count_bytes(tokenizer, tokenizer.encode_ordinary("héllo")) == len("héllo".encode("utf-8"))
    True
    """
    raise NotImplementedError('L08 count_bytes() is not implemented yet: write it in exercises/l08/train.py (stuck? run: llmfs hint L08)')


def bits_per_byte(mean_loss_nats_per_token: float, n_tokens: int, n_bytes: int) -> float:
    """Convert a mean loss per token (nats) into bits per byte of text, a unit every tokenizer shares.

    The total information is ``mean_loss * n_tokens`` nats; divided by ln 2 it is in bits, and divided by
    ``n_bytes`` it is per byte. A tokenizer with longer tokens has a higher loss per token but fewer
    tokens: bits per byte compares them fairly (a character model has n_tokens == n_bytes for ASCII).

    >>> bits_per_byte(math.log(2), n_tokens=10, n_bytes=20)   # 1 bit per token, 2 bytes per token
    0.5
    """
    if n_tokens <= 0 or n_bytes <= 0:
        raise ValueError(f"n_tokens and n_bytes must be positive, got n_tokens={n_tokens}, n_bytes={n_bytes}")
    raise NotImplementedError('L08 bits_per_byte() is not implemented yet: write it in exercises/l08/train.py (stuck? run: llmfs hint L08)')


# ----------------------------------------------------------------------------------------------------
# Stage: checkpoints


def save_checkpoint(path: str | Path, state: dict) -> None:
    """Write ``state`` with ``torch.save`` to ``path`` ATOMICALLY: a crash or a full disk in the middle of
    the write never destroys the previous checkpoint at ``path``.

    Write to a temporary file in the same folder, flush and ``os.fsync`` it (the bytes are on disk, not
    only in the OS's cache), then ``os.replace`` it onto ``path`` (a rename within one file system is
    atomic: a reader sees the old file or the new one, never half of one). If the write fails, remove the
    temporary file (if it is still there) and re-raise the error that stopped the write. The folder is
    created, with its parents, if needed.

    >>> save_checkpoint("runs/demo/ckpt.pt", {"model": model.state_dict(), "step": 100})
    """
    raise NotImplementedError('L08 save_checkpoint() is not implemented yet: write it in exercises/l08/train.py (stuck? run: llmfs hint L08)')


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict:
    """Read a checkpoint written by ``save_checkpoint``, its tensors on ``map_location``.

    ``torch.load(..., weights_only=True)``: a checkpoint holds tensors, numbers, strings, lists and dicts,
    and weights_only refuses anything else (unpickling arbitrary objects can run arbitrary code).
    A missing file raises FileNotFoundError; a truncated or corrupt one raises ValueError naming the path
    (not torch's bare "PytorchStreamReader failed reading zip archive").
    """
    raise NotImplementedError('L08 load_checkpoint() is not implemented yet: write it in exercises/l08/train.py (stuck? run: llmfs hint L08)')


def capture_rng(generator: torch.Generator) -> dict:
    """The random states a resumed run needs to continue the identical loss curve: ``"torch"`` (the global
    CPU generator: dropout, initialisation), ``"batches"`` (``generator``, which draws get_batch's offsets)
    and ``"cuda"`` (``torch.cuda.get_rng_state_all()``: every GPU's generator, an empty list without CUDA).
    Tensors, so they fit in a checkpoint.
    """
    raise NotImplementedError('L08 capture_rng() is not implemented yet: write it in exercises/l08/train.py (stuck? run: llmfs hint L08)')


def restore_rng(state: dict, generator: torch.Generator) -> None:
    """Put back the states ``capture_rng`` took: the global generator, ``generator``, and every GPU's
    (``torch.cuda.set_rng_state_all``, which does nothing with an empty list)."""
    raise NotImplementedError('L08 restore_rng() is not implemented yet: write it in exercises/l08/train.py (stuck? run: llmfs hint L08)')


# ----------------------------------------------------------------------------------------------------
# The training run (given: it puts the pieces above together)


def course_path(path: str | Path) -> Path:
    """A relative path as given if it exists from the working folder, else inside the course."""
    path = Path(path)
    return path if path.is_absolute() or path.exists() else COURSE_ROOT / path


def pick_device(name: str) -> torch.device:
    """``auto`` is cuda if present, else Apple's mps, else cpu; a named device must be available."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name not in ("cpu", "cuda", "mps"):
        raise ValueError(f"device must be auto, cpu, cuda or mps, got {name!r}")
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' asked for, but torch sees no CUDA GPU")
    if name == "mps" and not torch.backends.mps.is_available():
        raise ValueError("device 'mps' asked for, but torch sees no Apple GPU")
    return torch.device(name)


def model_config(config: TrainConfig, vocab_size: int) -> GPTConfig:
    return GPTConfig(
        vocab_size=vocab_size, block_size=config.block_size, n_layer=config.n_layer, n_head=config.n_head,
        n_embd=config.n_embd, dropout=config.dropout, bias=config.bias, use_sdpa=True,
    )  # fmt: skip


def read_corpus(path: Path) -> str:
    """The text of ``path``; RunError naming the file when it is not UTF-8 text or holds none."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RunError(f"{path} is not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset {exc.start}): train on a text file") from exc
    if not text.strip():
        raise RunError(f"{path} holds no text: train on a text file with something in it")
    return text


def prepare_tokenizer(config: TrainConfig, out_dir: Path, checkpoint: dict | None) -> tuple[RegexTokenizer, str]:
    """The run's tokenizer and the folder it lives in: the checkpoint's (resume), a given one, or a BPE of
    ``vocab_size`` trained on the training split of the text and saved into ``out_dir/tokenizer``."""
    if checkpoint is not None and checkpoint.get("tokenizer_dir"):
        folder = resolve_tokenizer_dir(checkpoint["tokenizer_dir"], out_dir)
        return RegexTokenizer.load(folder), checkpoint["tokenizer_dir"]
    if config.tokenizer_dir is not None:
        folder = course_path(config.tokenizer_dir).resolve()
        return RegexTokenizer.load(folder), str(folder)
    text = read_corpus(course_path(config.data_path))
    tokenizer = RegexTokenizer()
    tokenizer.train(text[: int(len(text) * (1.0 - config.val_fraction))], config.vocab_size)  # never the val text
    tokenizer.save(out_dir / "tokenizer")
    return tokenizer, "tokenizer"  # relative to the checkpoint's folder: the folder can move


def resolve_tokenizer_dir(tokenizer_dir: str, checkpoint_folder: Path) -> Path:
    """A checkpoint's tokenizer folder: relative to the checkpoint's own folder, else as written."""
    inside = checkpoint_folder / tokenizer_dir
    return inside if inside.is_dir() else course_path(tokenizer_dir)


def plot_losses(history: dict, path: Path) -> None:
    """Training loss per step and validation loss at each evaluation, into a PNG."""
    import matplotlib

    matplotlib.use("Agg")  # no window: a file, on any machine
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    steps = [record["step"] for record in history["steps"]]
    ax.plot(steps, [record["loss"] for record in history["steps"]], lw=0.8, alpha=0.6, label="train (per step)")
    evals = history["evals"]
    ax.plot([e["step"] for e in evals], [e["val_loss"] for e in evals], "o-", label="validation")
    if evals:
        ax.set_title(f"validation: {evals[-1]['val_loss']:.3f} nats/token = {evals[-1]['val_bpb']:.3f} bits/byte")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (nats per token)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def train(config: TrainConfig) -> dict:
    """Train a GPT as ``config`` says; return the history.

    History: ``{"steps": [{"step", "loss", "lr"}, ...], "evals": [{"step", "elapsed", "train_loss",
    "val_loss", "val_bpb"}, ...], "elapsed": seconds}``. ``elapsed`` counts everything from the call on:
    tokenizer training, encoding, model training and evaluation (plus a resumed run's earlier time).
    Writes into ``out_dir``: ``tokenizer/``, ``ckpt.pt`` (or ``model.pt`` with ``ship``), ``loss.png``.
    """
    start = time.perf_counter()
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    device = pick_device(config.device)
    out_dir = Path(config.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    text_path = course_path(config.data_path)
    read_corpus(text_path)  # a binary or empty file: one line now, not a traceback from deep in the tokenizer
    checkpoint = resume_from(out_dir / "ckpt.pt") if config.resume else None

    tokenizer, tokenizer_dir = prepare_tokenizer(config, out_dir, checkpoint)
    train_data, val_data = encode_corpus(text_path, tokenizer, config.cache_dir, config.val_fraction)
    check_split_sizes(text_path, train_data, val_data, config)
    val_bytes = count_bytes(tokenizer, val_data[1:])  # the bytes of the predicted tokens

    gpt_config = model_config(config, max(tokenizer.vocab) + 1)
    if checkpoint is not None and checkpoint["config"] != asdict(gpt_config):
        raise RunError(f"cannot resume: {out_dir / 'ckpt.pt'} holds {checkpoint['config']}, this run builds {asdict(gpt_config)}")
    torch.manual_seed(config.seed)
    model = GPT(gpt_config).to(device)
    optimizer = AdamW(
        param_groups(model, config.weight_decay), lr=config.max_lr, betas=(config.beta1, config.beta2),
        weight_decay=config.weight_decay,
    )  # fmt: skip
    generator = torch.Generator().manual_seed(config.seed)  # get_batch's offsets
    history: dict = {"steps": [], "evals": [], "elapsed": 0.0}
    step, earlier = 0, 0.0
    if checkpoint is not None:
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        restore_rng(checkpoint["rng"], generator)
        step, earlier = checkpoint["step"], checkpoint["elapsed"]
        history["steps"], history["evals"] = checkpoint["history"], checkpoint["evals"]

    def elapsed() -> float:
        return earlier + time.perf_counter() - start

    def run_eval() -> dict:
        eval_generator = torch.Generator().manual_seed(config.seed + 1)  # the same batches at every evaluation
        # No activations are kept for a backward pass, so evaluation affords 4x larger batches.
        val_loss = evaluate(model, val_data, 4 * config.batch_size, config.block_size, config.eval_iters, eval_generator)
        bpb = bits_per_byte(val_loss, len(val_data) - 1, val_bytes)
        recent = [record["loss"] for record in history["steps"][-config.eval_interval :]]
        record = dict(step=step, elapsed=elapsed(), train_loss=sum(recent) / max(len(recent), 1), val_loss=val_loss, val_bpb=bpb)
        history["evals"].append(record)
        return record

    def save() -> None:
        if config.plot:
            plot_losses(history, out_dir / "loss.png")
        state = {
            "model": model.state_dict(), "config": asdict(model.config), "train_config": asdict(config),
            "tokenizer_dir": tokenizer_dir, "step": step, "elapsed": elapsed(),
            "history": history["steps"], "evals": history["evals"],
        }  # fmt: skip
        if config.ship:  # weights in float16 (half the bytes; tied wte/lm_head stay one tensor), no optimizer
            state["model"] = copy.deepcopy(model).half().state_dict()
            save_checkpoint(out_dir / "model.pt", state)
        else:
            save_checkpoint(out_dir / "ckpt.pt", state | {"optimizer": optimizer.state_dict(), "rng": capture_rng(generator)})

    last = config.max_steps if config.stop_at is None else min(config.stop_at, config.max_steps)
    tokens_per_step = config.batch_size * config.block_size * config.grad_accum_steps
    progress = make_progress(config.verbose)
    with progress:
        task = progress.add_task("training", total=config.max_steps, completed=step, loss=float("nan"), lr=0.0, tps=0.0)
        if config.verbose:
            progress.console.print(
                f"{model.num_parameters():,} parameters, vocabulary {model.config.vocab_size}, "
                f"{len(train_data):,} training and {len(val_data):,} validation tokens, device {device}, "
                f"{torch.get_num_threads()} threads; setup took {elapsed():.1f} s"
            )
        model.train()
        while step < last:
            tick = time.perf_counter()
            lr = lr_at(step, max_lr=config.max_lr, min_lr=config.min_lr, warmup_steps=config.warmup_steps, total_steps=config.max_steps)
            for group in optimizer.param_groups:
                group["lr"] = lr
            batches = [get_batch(train_data, config.batch_size, config.block_size, generator, device) for _ in range(config.grad_accum_steps)]
            loss = train_step(model, optimizer, batches, config.grad_clip)
            step += 1
            history["steps"].append(dict(step=step, loss=loss, lr=lr))
            progress.update(task, completed=step, loss=loss, lr=lr, tps=tokens_per_step / (time.perf_counter() - tick))
            if step % config.eval_interval == 0 or step == last:
                record = run_eval()
                if config.verbose:
                    progress.console.print(
                        f"step {step:>5}  {record['elapsed']:7.1f} s  train loss {record['train_loss']:.4f}  "
                        f"val loss {record['val_loss']:.4f}  val {record['val_bpb']:.4f} bits/byte"
                    )
                save()
    history["elapsed"] = elapsed()
    return history


def resume_from(path: Path) -> dict:
    """The checkpoint a resumed run continues (``load_checkpoint``); RunError in one line for a damaged file."""
    try:
        return load_checkpoint(path)
    except ValueError as exc:
        raise RunError(f"cannot resume: {path} is not a readable checkpoint (truncated or corrupt?): start afresh without --resume") from exc


def check_split_sizes(text_path: Path, train_data, val_data, config: TrainConfig) -> None:
    """Both splits must hold at least one window of ``block_size + 1`` tokens (validation: two tokens when it is
    read whole), or the loss is NaN from the first step; RunError saying what to change."""
    need, val_need = config.block_size + 1, (2 if config.eval_iters is None else config.block_size + 1)
    if len(train_data) < need or len(val_data) < val_need:
        raise RunError(
            f"{text_path} gives {len(train_data)} training and {len(val_data)} validation tokens, too few for --block-size "
            f"{config.block_size} (it needs {need} and {val_need}): train on a longer text or with a smaller --block-size"
        )


def make_progress(verbose: bool):
    """A rich progress bar showing step, loss, learning rate and tokens per second (silent if not verbose)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    return Progress(
        TextColumn("step"), MofNCompleteColumn(), BarColumn(),
        TextColumn("loss {task.fields[loss]:.4f}  lr {task.fields[lr]:.2e}  {task.fields[tps]:,.0f} tok/s"),
        TimeElapsedColumn(), TimeRemainingColumn(), disable=not verbose,
    )  # fmt: skip


# ----------------------------------------------------------------------------------------------------
# Loading a trained model (for L09's sampling and L10's chat)


def load_model(path: str | Path) -> tuple[GPT, RegexTokenizer]:
    """The model (float32, eval mode, on the CPU) and tokenizer of a checkpoint written by ``train``:
    a shipped ``model.pt``, a run's ``ckpt.pt``, or the folder holding one of them.

    Reads the file with ``torch.load`` directly (not ``load_checkpoint``), so later lessons can load the
    shipped model before this lesson's stubs are written. A missing file raises FileNotFoundError; a corrupt
    one, or one of another format, raises ValueError naming the path.

    >>> model, tokenizer = load_model("data/checkpoints/shakespeare")
    >>> model.config.vocab_size == max(tokenizer.vocab) + 1
    True
    """
    path = course_path(path)
    if path.is_dir():
        path = path / "model.pt" if (path / "model.pt").is_file() else path / "ckpt.pt"
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises RuntimeError, EOFError or UnpicklingError depending on the damage
        # Not torch's own text: for a file that is no checkpoint it advises weights_only=False, which runs any code in it.
        raise ValueError(f"{path} is not a readable checkpoint (truncated, corrupt, or not a checkpoint at all)") from exc
    if not isinstance(checkpoint, dict) or not {"model", "config"} <= checkpoint.keys():
        raise ValueError(f"{path} is not a checkpoint of L08's format (a dict with 'model' and 'config')")
    model = GPT(GPTConfig(**checkpoint["config"]))
    model.load_state_dict(checkpoint["model"])  # copies (and casts float16 -> float32) into the parameters
    if checkpoint.get("tokenizer_dir") is None:
        raise ValueError(f"{path} names no tokenizer folder (tokenizer_dir)")
    tokenizer = RegexTokenizer.load(resolve_tokenizer_dir(checkpoint["tokenizer_dir"], path.parent))
    return model.eval(), tokenizer


# ----------------------------------------------------------------------------------------------------
# The command line


def config_from_command_line(
    config_cls: type[Config], argv: list[str] | None, *, prog: str, description: str,
    aliases: dict[str, str] | None = None,
) -> Config:  # fmt: skip
    """A ``config_cls`` (a dataclass) from the command line: one ``--flag`` per field (``--max-lr 1e-3``,
    ``--no-plot``, ``--eval-iters none``), its help the comment written after the field, and its default.
    ``aliases`` adds a second flag to a field ({"out_dir": "--out"}). Values that do not fit together
    (``__post_init__``'s ValueError) end in usage and the reason, no traceback."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    comments = {}  # "name: type = default  # comment" -> {name: comment}
    for line in inspect.getsource(config_cls).splitlines():
        if match := re.match(r"\s+(\w+): .+?  # (.+)$", line):
            comments[match[1]] = match[2]
    for field in dataclasses.fields(config_cls):
        flags = [f"--{field.name.replace('_', '-')}", *([aliases[field.name]] if field.name in (aliases or {}) else [])]
        help_text = f"{comments.get(field.name, '')} (default: {field.default})".lstrip().replace("%", "%%")
        kind = str(field.type)
        if kind == "bool":
            parser.add_argument(*flags, action=argparse.BooleanOptionalAction, default=field.default, help=help_text)
            continue
        parse = {"int": int, "float": float, "str": str}[kind.split(" |")[0]]
        if kind.endswith("| None"):
            parse = lambda text, parse=parse: None if text.lower() == "none" else parse(text)  # noqa: E731
        parser.add_argument(*flags, type=parse, default=field.default, metavar=kind.split(" |")[0].upper(), help=help_text)
    try:
        return config_cls(**vars(parser.parse_args(argv)))
    except ValueError as exc:
        parser.error(str(exc))


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    """A TrainConfig from the command line (``--out`` is short for ``--out-dir``)."""
    return config_from_command_line(
        TrainConfig, argv, prog="python -m exercises.l08.train", aliases={"out_dir": "--out"},
        description="Train a GPT on a text file (defaults: the course's recipe).",
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    config = parse_args(argv)
    try:
        pick_device(config.device)  # an unknown or absent device: one line, before any work
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        history = train(config)
    except (FileNotFoundError, RunError) as exc:  # a missing or unusable text, tokenizer or checkpoint to resume
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except NotImplementedError as exc:  # a stub the loop needs: say which, in one line
        print(str(exc).splitlines()[0], file=sys.stderr)
        return 1
    final = history["evals"][-1]
    print(
        f"done: step {final['step']}, validation {final['val_loss']:.4f} nats/token = {final['val_bpb']:.4f} "
        f"bits/byte, {history['elapsed']:.0f} s in all; wrote {config.out_dir}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
