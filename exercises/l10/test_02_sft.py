"""Stage 2: supervised fine-tuning: next-token targets on the assistant's tokens only, right-padded batches,
and a loss whose gradient on prompt tokens is exactly zero. The oracle is Hugging Face's GPT2LMHeadModel
with labels -100 outside the assistant's turns.
"""
import torch

from ..l01.bpe import RegexTokenizer
from ..l07.gpt import GPT, GPTConfig
from ..spec_helpers import raises_value_error
from .sft import collate, sft_example, sft_loss
from .template import PAD, add_chat_tokens, render_chat

CONVERSATION = [
    {"role": "user", "content": "Greet Romeo."},
    {"role": "assistant", "content": "Good morrow, Romeo!"},
    {"role": "user", "content": "What is 3 plus 4?"},
    {"role": "assistant", "content": "3 plus 4 is 7."},
]


def byte_tokenizer() -> RegexTokenizer:
    tokenizer = RegexTokenizer()
    add_chat_tokens(tokenizer)
    return tokenizer


def tiny_gpt(seed: int = 0, vocab_size: int = 260) -> GPT:
    torch.manual_seed(seed)
    return GPT(GPTConfig(vocab_size=vocab_size, block_size=96, n_layer=2, n_head=2, n_embd=16))


def hf_twin(model: GPT):
    """Hugging Face's GPT-2 holding the same weights (float64 for exact comparisons)."""
    from transformers import GPT2Config, GPT2LMHeadModel

    c = model.config
    hf = GPT2LMHeadModel(GPT2Config(vocab_size=c.vocab_size, n_positions=c.block_size, n_embd=c.n_embd, n_layer=c.n_layer,
                                    n_head=c.n_head, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=0, eos_token_id=0))  # fmt: skip
    hf.load_state_dict(model.hf_state_dict(), strict=False)
    return hf.eval()


def sum_lists(lists):
    return [item for part in lists for item in part]


def test_sft_example_targets_only_the_assistant():
    got = sft_example([10, 11, 12, 13, 14], [False, False, True, True, False], block_size=8)
    want = ([10, 11, 12, 13], [-100, 12, 13, -100])
    assert got == want, (
        f"sft_example(ids=[10, 11, 12, 13, 14], mask=[F, F, T, T, F]) gave {got}, expected {want}: "
        "x = ids[:-1]; y[t] = ids[t + 1] if mask[t + 1] else -100 (the mask belongs to the TARGET token, one to the right)"
    )
    got = sft_example(list(range(10)), [True] * 10, block_size=4)
    assert got == ([0, 1, 2, 3], [1, 2, 3, 4]), f"with block_size=4 sft_example should keep the first 4 positions, got {got}"
    with raises_value_error("same length", "sft_example with ids and mask of different lengths should raise ValueError"):
        sft_example([1, 2, 3], [True, True], block_size=8)


def test_collate_pads_on_the_right():
    x, y = collate([([1, 2, 3], [-100, 3, 4]), ([5], [6])], pad_id=0)
    want_x, want_y = torch.tensor([[1, 2, 3], [5, 0, 0]]), torch.tensor([[-100, 3, 4], [6, -100, -100]])
    assert x.dtype == torch.long and y.dtype == torch.long, f"collate should give int64 tensors, got {x.dtype} and {y.dtype}"
    assert torch.equal(x, want_x), f"collate x = {x.tolist()}, expected {want_x.tolist()}: pad x on the RIGHT with pad_id"
    assert torch.equal(y, want_y), f"collate y = {y.tolist()}, expected {want_y.tolist()}: pad y on the right with -100 (padding is never a target)"


def test_sft_loss_equals_transformers_on_a_padded_batch():
    tokenizer = byte_tokenizer()
    model = tiny_gpt().double()
    hf = hf_twin(model).double()
    conversations = [CONVERSATION, CONVERSATION[:2], [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hail!"}]]
    rendered = [render_chat(tokenizer, c) for c in conversations]
    x, y = collate([sft_example(ids, mask, 96) for ids, mask in rendered], tokenizer.special_tokens[PAD])
    got = sft_loss(model, x, y)
    T = max(len(ids) for ids, _ in rendered)
    ids = torch.full((len(rendered), T), tokenizer.special_tokens[PAD])
    labels = torch.full((len(rendered), T), -100)
    for row, (tokens, mask) in enumerate(rendered):
        ids[row, : len(tokens)] = torch.tensor(tokens)
        labels[row, : len(tokens)] = torch.where(torch.tensor(mask), torch.tensor(tokens), -100)
    with torch.no_grad():
        want = hf(ids, labels=labels).loss
    torch.testing.assert_close(got.detach(), want.double(), rtol=1e-5, atol=1e-6, msg=lambda m: (
        f"sft_loss = {got.item():.6f}, transformers (labels -100 outside the assistant's turns) = {want.item():.6f}: "
        f"the mean over assistant targets only, each token once, padding ignored\n{m}"
    ))  # fmt: skip


def test_gradient_on_prompt_tokens_is_exactly_zero():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    tokenizer = byte_tokenizer()
    model = tiny_gpt(1)
    captured = {}
    model.lm_head.register_forward_hook(lambda module, inputs, output: captured.update(logits=output) or output.retain_grad())
    text = st.lists(st.sampled_from(list("abc ,.!?")), min_size=1, max_size=8).map("".join)
    turn = st.tuples(text, text).map(lambda t: [{"role": "user", "content": t[0]}, {"role": "assistant", "content": t[1]}])

    @settings(max_examples=25, deadline=None, derandomize=True, database=None)
    @given(st.lists(st.lists(turn, min_size=1, max_size=3).map(sum_lists), min_size=1, max_size=3))
    def prompt_gradient_is_zero(conversations):
        rendered = [render_chat(tokenizer, c) for c in conversations]
        x, y = collate([sft_example(ids, mask, 96) for ids, mask in rendered], tokenizer.special_tokens[PAD])
        model.zero_grad()
        sft_loss(model, x, y).backward()
        grad = captured["logits"].grad  # (B, T, vocab): d loss / d logits
        for row, (ids, mask) in enumerate(rendered):
            for t in range(len(ids) - 1):
                norm = grad[row, t].abs().sum().item()
                if not mask[t + 1]:
                    assert norm == 0.0, (
                        f"the logits at position {t} predict token {ids[t + 1]} ({tokenizer.decode([ids[t + 1]])!r}), which is "
                        f"not the assistant's, yet their gradient is {norm:.3g}: the loss must see only assistant targets"
                    )
                else:
                    assert norm > 0.0, f"the logits at position {t} predict an assistant token, yet get no gradient"
            assert grad[row, len(ids) - 1 :].abs().sum() == 0, "padding positions must get no gradient"

    prompt_gradient_is_zero()


def test_sft_with_the_l08_loop_learns_a_reply():
    from .finetune import FinetuneConfig, train_sft

    tokenizer = byte_tokenizer()
    model = tiny_gpt(2)
    conversations = [{"messages": CONVERSATION}, {"messages": CONVERSATION[:2]}]
    cfg = FinetuneConfig(sft_steps=60, sft_batch_size=2, sft_lr=1e-2, warmup_steps=5)
    losses = train_sft(model, tokenizer, conversations, cfg)
    assert len(losses) == 60 and losses[-1] < 0.25 * losses[0], f"60 SFT steps on 2 conversations took the loss from {losses[0]:.3f} to {losses[-1]:.3f}: expected it to fall 4x"
    model.eval()
    ids, _ = render_chat(tokenizer, CONVERSATION[:1], add_generation_prompt=True)
    reply = []
    with torch.no_grad():
        for _ in range(19):
            reply.append(model(torch.tensor([ids + reply]))[0][0, -1].argmax().item())
    got = tokenizer.decode(reply)
    assert got == "Good morrow, Romeo!", f"after SFT the greedy reply to 'Greet Romeo.' is {got!r}, expected 'Good morrow, Romeo!'"
