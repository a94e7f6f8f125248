"""Lesson 9, part 3: the decoding loop, streaming, and beam search.

Autoregressive generation repeats one step: run the model, take the logits of the last position, pick a
token, append it, go again. ``stream`` is that loop as a Python generator (each token is yielded the moment
it exists, as a chat interface shows it); ``generate`` collects it. Stop tokens end a sequence (the stop
token is kept, as ``transformers`` keeps its EOS); ``max_new_tokens`` bounds the length.

Beam search keeps the ``num_beams`` best partial sequences instead of one, scored by their summed
log-probabilities; a finished sequence is ranked by score / length ** length_penalty, since a longer
sequence has more negative terms in its sum. The semantics follow ``transformers``' ``generate(num_beams=N,
do_sample=False)``, which the specs use as the oracle.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from .kv_cache import GPTWeights, KVCache, forward_with_cache
from .sampling import apply_repetition_penalty, sample_next


def stream(
    model: nn.Module,
    idx: torch.Tensor,
    max_new_tokens: int,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    repetition_penalty: float = 1.0,
    stop_tokens: Iterable[int] = (),
    generator: torch.Generator | None = None,
    use_cache: bool = True,
) -> Iterator[torch.Tensor]:
    """Generate up to ``max_new_tokens`` tokens after ``idx``, yielding each step's tokens as they come.

    idx: int64 (B, T) prompt. Yields int64 (B,): the next token of every row, one step at a time. Each step
    takes the logits of the last position, applies the repetition penalty over all tokens so far (prompt
    included), then ``sample_next`` (temperature 0 = greedy). A row that has produced one of ``stop_tokens``
    is finished: it keeps repeating that stop token while other rows go on, and the loop ends (after
    yielding the step) once every row is finished. With ``use_cache`` the model sees only the new tokens
    (``forward_with_cache``); without, it recomputes the whole context each step. When the sequence outgrows
    ``block_size``, the model sees the last block_size tokens (the window slides; the cache is rebuilt, as
    positions shift), so both paths give the same tokens. Runs under ``torch.inference_mode``.

    >>> from ..l07.gpt import GPT, GPTConfig
    >>> model = GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=8)).eval()
    >>> for token in stream(model, torch.tensor([[1, 2], [3, 4]]), 3, temperature=0):
    ...     print(token.shape)                        # one id per row, the moment it exists
    torch.Size([2])
    torch.Size([2])
    torch.Size([2])
    """
    if idx.dim() != 2 or idx.shape[1] == 0:
        raise ValueError(f"idx must be a non-empty (B, T) batch of token ids, got shape {tuple(idx.shape)}")
    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be >= 0, got {max_new_tokens}")
    ### BEGIN SOLUTION
    B, T = idx.shape
    block_size = model.config.block_size
    stop = idx.new_tensor(sorted(set(stop_tokens)))  # int64, on idx's device
    with torch.inference_mode():
        ids = idx.new_empty(B, T + max_new_tokens)  # the whole sequence, allocated once
        ids[:, :T] = idx
        finished = idx.new_zeros(B, dtype=torch.bool)
        cache = KVCache.for_model(model, B) if use_cache else None
        weights = GPTWeights.of(model) if use_cache else None  # looked up once, not per token
    length, unseen = T, T  # tokens so far; how many of them the cache has not seen
    for _ in range(max_new_tokens):
        with torch.inference_mode():  # not across the yield: the caller's code must run in its own mode
            if cache is None:
                logits = model(ids[:, max(0, length - block_size) : length])[0][:, -1]
            else:
                if cache.length + unseen > cache.max_len:  # window full: positions shift, rebuild the cache
                    cache.reset()
                    unseen = min(length, block_size)
                logits = forward_with_cache(weights, ids[:, length - unseen : length], cache)[:, -1]
            logits = apply_repetition_penalty(logits, ids[:, :length], repetition_penalty)  # 1.0 changes nothing
            next_id = sample_next(logits, temperature=temperature, top_k=top_k, top_p=top_p, generator=generator)
            if len(stop):
                next_id = torch.where(finished, ids[:, length - 1], next_id)  # finished rows repeat their stop token
                finished |= torch.isin(next_id, stop)
            ids[:, length] = next_id
            length, unseen = length + 1, 1
        yield next_id
        if len(stop) and finished.all():
            return
    ### END SOLUTION


def generate(
    model: nn.Module,
    idx: torch.Tensor,
    max_new_tokens: int,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    repetition_penalty: float = 1.0,
    stop_tokens: Iterable[int] = (),
    generator: torch.Generator | None = None,
    use_cache: bool = True,
) -> torch.Tensor:
    """The prompt followed by what ``stream`` yields: int64 (B, T + n), n <= max_new_tokens (fewer when every
    row has hit a stop token, which stays in the output). Same arguments as ``stream``.

    >>> from ..l07.gpt import GPT, GPTConfig
    >>> model = GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=8)).eval()
    >>> generate(model, torch.tensor([[1, 2]]), 5, temperature=0).shape
    torch.Size([1, 7])
    """
    ### BEGIN SOLUTION
    steps = stream(
        model, idx, max_new_tokens, temperature=temperature, top_k=top_k, top_p=top_p,
        repetition_penalty=repetition_penalty, stop_tokens=stop_tokens, generator=generator, use_cache=use_cache,
    )  # fmt: skip
    return torch.cat([idx, *(token[:, None] for token in steps)], dim=1)
    ### END SOLUTION


def beam_search(
    model: nn.Module,
    idx: torch.Tensor,
    *,
    num_beams: int,
    max_new_tokens: int,
    length_penalty: float = 1.0,
    early_stopping: bool | str = False,
    eos_token_id: int | None = None,
) -> torch.Tensor:
    """The best sequence found by beam search, as ``transformers``' generate(num_beams=..., do_sample=False).

    idx: int64 (1, T) prompt (one sequence); returns int64 (1, T + n), 1 <= n <= max_new_tokens, the EOS kept.

    Each step extends every live beam by every token: score = the beam's summed log-probability + log p(token)
    (log_softmax in float32). Of all those candidates take the best 2 * num_beams, in order of score:
      - a candidate that ends (its token is ``eos_token_id``, or it reaches max_new_tokens) becomes a finished
        hypothesis with score / n ** length_penalty (n = its generated tokens, EOS included), but only if it
        ranks among the first num_beams candidates; the num_beams best finished hypotheses are kept;
      - the first num_beams candidates that do not end are the next step's live beams.
    The search stops after max_new_tokens steps, or, once num_beams hypotheses are finished:
      - early_stopping=True: at once;
      - early_stopping=False: when the best live beam's score / n ** length_penalty (n = its current length)
        cannot beat the worst finished one (a heuristic: with length_penalty > 0 a longer beam could);
      - early_stopping="never": the same test with the best length it could still reach (max_new_tokens when
        length_penalty > 0): exact, it stops only when no live beam can win.
    length_penalty > 0 favours longer sequences (1.0 = mean log-probability), < 0 shorter, 0 = plain sums.
    ValueError if T + max_new_tokens exceeds the model's block_size.
    """
    if idx.dim() != 2 or idx.shape[0] != 1:
        raise ValueError(f"beam_search takes one prompt of shape (1, T), got {tuple(idx.shape)}")
    if num_beams < 1 or max_new_tokens < 1:
        raise ValueError(f"num_beams and max_new_tokens must be >= 1, got {num_beams} and {max_new_tokens}")
    if early_stopping not in (True, False, "never"):
        raise ValueError(f"early_stopping must be True, False or 'never', got {early_stopping!r}")
    if idx.shape[1] + max_new_tokens > model.config.block_size:
        raise ValueError(
            f"prompt ({idx.shape[1]}) + max_new_tokens ({max_new_tokens}) exceed block_size {model.config.block_size}"
        )
    ### BEGIN SOLUTION
    with torch.inference_mode():
        cache = KVCache.for_model(model, batch_size=1, max_len=idx.shape[1] + max_new_tokens)
        weights = GPTWeights.of(model)
        logits = forward_with_cache(weights, idx, cache)[:, -1]  # (beams, vocab)
        beams = idx  # (beams, T + step): the live hypotheses
        beam_scores = logits.new_zeros(1)  # their summed log-probabilities
        finished: list[tuple[torch.Tensor, torch.Tensor]] = []  # (score, sequence), best first
        for step in range(max_new_tokens):
            n = step + 1  # generated tokens once this step's token is appended
            vocab = logits.shape[-1]
            scores = (F.log_softmax(logits.float(), dim=-1) + beam_scores[:, None]).view(-1)
            top_scores, top_index = scores.topk(min(2 * num_beams, scores.numel()))
            live_beam, live_token, live_score = [], [], []
            for rank, (score, index) in enumerate(zip(top_scores, top_index.tolist())):
                beam, token = divmod(index, vocab)
                if token == eos_token_id or n == max_new_tokens:
                    if rank < num_beams:
                        sequence = torch.cat([beams[beam], beams.new_tensor([token])])
                        finished.append((score / n**length_penalty, sequence))
                elif len(live_beam) < num_beams:
                    live_beam.append(beam)
                    live_token.append(token)
                    live_score.append(score)
            finished = sorted(finished, key=lambda item: item[0].item(), reverse=True)[:num_beams]
            if not live_beam:  # every candidate ended (at max_new_tokens all of them do)
                break
            live_beam = idx.new_tensor(live_beam)
            live_token = idx.new_tensor(live_token)[:, None]
            beams = torch.cat([beams[live_beam], live_token], dim=1)
            beam_scores = torch.stack(live_score)
            if len(finished) == num_beams:
                if early_stopping is True:
                    break
                best_n = max_new_tokens if early_stopping == "never" and length_penalty > 0 else n
                if beam_scores[0] / best_n**length_penalty <= finished[-1][0]:
                    break  # no live beam can beat the worst finished hypothesis any more
            cache.reorder(live_beam)
            logits = forward_with_cache(weights, live_token, cache)[:, -1]
    return finished[0][1][None]
    ### END SOLUTION
