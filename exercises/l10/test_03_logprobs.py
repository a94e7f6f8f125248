"""Stage 3: log-probabilities of tokens and of whole responses under a model, summed over the response.

Oracles: Hugging Face's GPT2LMHeadModel (its loss with labels -100 outside the response is minus the mean
log-probability of the response tokens), and the definition itself, one prefix at a time.
"""
import torch
import torch.nn.functional as F

from ..l07.gpt import GPT, GPTConfig
from ..spec_helpers import raises_value_error
from .logprobs import sequence_logprobs, token_logprobs


def tiny_gpt(seed: int = 0) -> GPT:
    torch.manual_seed(seed)
    return GPT(GPTConfig(vocab_size=50, block_size=32, n_layer=2, n_head=2, n_embd=16)).double().eval()


def hf_twin(model: GPT):
    from transformers import GPT2Config, GPT2LMHeadModel

    c = model.config
    hf = GPT2LMHeadModel(GPT2Config(vocab_size=c.vocab_size, n_positions=c.block_size, n_embd=c.n_embd, n_layer=c.n_layer,
                                    n_head=c.n_head, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=0, eos_token_id=0))  # fmt: skip
    hf.load_state_dict(model.hf_state_dict(), strict=False)
    return hf.double().eval()


def batch() -> tuple[torch.Tensor, torch.Tensor]:
    """Two right-padded rows (pad = 0): prompt of 4 + response of 5, and prompt of 3 + response of 2."""
    ids = torch.tensor([[5, 6, 7, 8, 9, 10, 11, 12, 13], [20, 21, 22, 23, 24, 0, 0, 0, 0]])
    mask = torch.zeros_like(ids, dtype=torch.bool)
    mask[0, 4:9] = True
    mask[1, 3:5] = True
    return ids, mask


def test_token_logprobs_score_the_next_token():
    model = tiny_gpt()
    ids, _ = batch()
    got = token_logprobs(model, ids)
    assert got.shape == (2, 8), f"token_logprobs of (2, 9) ids has shape {tuple(got.shape)}, expected (2, 8): one per predicted token"
    with torch.no_grad():
        for row in range(2):
            for t in range(1, 9):
                want = F.log_softmax(model(ids[row : row + 1, :t])[0][0, -1], dim=-1)[ids[row, t]]
                assert torch.allclose(got[row, t - 1], want), (
                    f"token_logprobs[{row}, {t - 1}] = {got[row, t - 1].item():.5f}, but log p(ids[{t}] | ids[:{t}]) = {want.item():.5f}: "
                    "column t scores ids[t + 1] with the logits at position t (shift by one)"
                )


def test_sequence_logprobs_equal_transformers():
    model = tiny_gpt(1)
    hf = hf_twin(model)
    ids, mask = batch()
    got = sequence_logprobs(model, ids, mask)
    assert got.shape == (2,), f"sequence_logprobs should give one number per row, shape (2,), got {tuple(got.shape)}"
    for row in range(2):
        labels = torch.where(mask[row : row + 1], ids[row : row + 1], -100)
        with torch.no_grad():
            mean_nll = hf(ids[row : row + 1], labels=labels).loss  # mean over the response tokens
        want = -mean_nll.double() * mask[row].sum()  # transformers computes its loss in float32
        assert torch.allclose(got[row], want, rtol=1e-5), (
            f"row {row}: sequence_logprobs = {got[row].item():.5f}, transformers says {want.item():.5f} "
            f"(= -loss x {mask[row].sum().item()} response tokens): sum log-probs over the response, do not average"
        )


def test_sequence_logprobs_sum_over_the_response_only():
    model = tiny_gpt(2)
    ids, mask = batch()
    per_token = token_logprobs(model, ids).detach()
    got = sequence_logprobs(model, ids, mask).detach()
    for row in range(2):
        want = per_token[row][mask[row, 1:]].sum()
        average = per_token[row][mask[row, 1:]].mean()
        why = ("that is the MEAN of the response's log-probs: sum them (a longer reply is less likely)"
               if torch.allclose(got[row], average) else "sum token_logprobs where the mask of the scored token is True")
        assert torch.allclose(got[row], want), f"row {row}: sequence_logprobs = {got[row].item():.5f}, expected {want.item():.5f}: {why}"
    changed = ids.clone()
    changed[1, 5:] = 7  # different padding must not matter
    assert torch.allclose(sequence_logprobs(model, changed, mask), got), "the tokens after the response (padding) must not change its log-probability"
    with raises_value_error("position 0", "a response mask True at position 0 (which nothing predicts) should raise ValueError"):
        sequence_logprobs(model, ids, torch.ones_like(mask))


def test_sequence_logprobs_carry_gradients():
    model = tiny_gpt(3)
    ids, mask = batch()
    sequence_logprobs(model, ids, mask).sum().backward()
    grad = model.transformer.wte.weight.grad
    assert grad is not None and grad.abs().sum() > 0, "sequence_logprobs must be differentiable: DPO and PPO train through it (no .detach(), no torch.no_grad)"


def test_token_logprobs_with_huge_logits():
    model = tiny_gpt(4)
    with torch.no_grad():
        model.transformer.ln_f.weight.mul_(1e5)  # logits in the thousands: most probabilities underflow to 0
    ids = torch.randint(0, 50, (2, 12), generator=torch.Generator().manual_seed(4))
    with torch.no_grad():  # the oracle, computed before your code sees the model
        logits = model(ids[:, :-1])[0]
        want = F.log_softmax(logits.double(), dim=-1).gather(-1, ids[:, 1:, None]).squeeze(-1)
    got = token_logprobs(model, ids).detach()
    assert torch.isfinite(got).all(), (
        f"with logits up to {logits.abs().max().item():.0f}, token_logprobs gave {int((~torch.isfinite(got)).sum())} "
        "non-finite values: log(softmax(x)) is log(0) = -inf for an unlikely token; F.log_softmax computes "
        "x - logsumexp(x), which stays finite"
    )
    torch.testing.assert_close(got.double(), want, rtol=1e-6, atol=1e-6, msg=lambda m: (
        f"token_logprobs with huge logits differ from log_softmax(logits).gather(next token)\n{m}"
    ))  # fmt: skip


def test_token_logprobs_at_the_edges_of_the_shape():
    """A batch of one, a single predicted token, and a full window: block_size + 1 ids, the last only a target."""
    model = tiny_gpt(5)
    block_size = model.config.block_size
    generator = torch.Generator().manual_seed(5)
    for B, T in [(1, 6), (3, 2), (1, 2), (2, block_size + 1)]:
        ids = torch.randint(0, 50, (B, T), generator=generator)
        with torch.no_grad():  # the oracle: the logits at positions 0..T-2 score the tokens 1..T-1
            want = F.log_softmax(model(ids[:, :-1])[0], dim=-1).gather(-1, ids[:, 1:, None]).squeeze(-1)
        try:
            got = token_logprobs(model, ids)
        except ValueError as error:
            raise AssertionError(
                f"token_logprobs on ids of shape ({B}, {T}) raised {error}: the last token is only a target, so run "
                f"the model on ids[:, :-1] ({T - 1} <= block_size = {block_size} positions), not on all of ids"
            ) from None
        assert got.shape == (B, T - 1), (
            f"token_logprobs of ({B}, {T}) ids has shape {tuple(got.shape)}, expected ({B}, {T - 1}): squeeze only the "
            "gathered last dim (.squeeze(-1)); a bare .squeeze() also drops a batch of one or a single predicted token"
        )
        torch.testing.assert_close(got.detach(), want, msg=lambda m: (
            f"token_logprobs of ({B}, {T}) ids differ from log_softmax(logits at t).gather(ids[t + 1])\n{m}"
        ))  # fmt: skip
