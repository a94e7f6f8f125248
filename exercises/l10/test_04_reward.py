"""Stage 4: the reward model: the GPT backbone with a scalar head read at the last non-pad token, the
Bradley-Terry pairwise loss, and accuracy on held-out pairs. The oracle is Hugging Face's
GPT2ForSequenceClassification, which scores a sequence the same way.
"""
import torch
import torch.nn.functional as F

from ..l07.gpt import GPT, GPTConfig
from ..spec_helpers import raises_value_error
from .reward import RewardModel, bradley_terry_loss, hidden_states, last_token_index, pairwise_accuracy

PAD_ID = 49


def tiny_gpt(seed: int = 0) -> GPT:
    torch.manual_seed(seed)
    return GPT(GPTConfig(vocab_size=50, block_size=32, n_layer=2, n_head=2, n_embd=16))


def padded_batch() -> torch.Tensor:
    return torch.tensor([[3, 4, 5, 6, 7, 8], [3, 4, 5, PAD_ID, PAD_ID, PAD_ID], [9, PAD_ID, PAD_ID, PAD_ID, PAD_ID, PAD_ID]])


def test_hidden_states_equal_transformers():
    from transformers import GPT2Config, GPT2Model

    model = tiny_gpt().double().eval()
    c = model.config
    hf = GPT2Model(GPT2Config(vocab_size=c.vocab_size, n_positions=c.block_size, n_embd=c.n_embd, n_layer=c.n_layer,
                              n_head=c.n_head, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, bos_token_id=0, eos_token_id=0))  # fmt: skip
    hf.load_state_dict({k.removeprefix("transformer."): v for k, v in model.hf_state_dict().items() if k != "lm_head.weight"}, strict=False)
    hf = hf.double().eval()
    ids = padded_batch()
    got = hidden_states(model, ids)
    with torch.no_grad():
        want = hf(ids).last_hidden_state
    assert got.shape == want.shape, f"hidden_states gave shape {tuple(got.shape)}, expected {tuple(want.shape)} (B, T, n_embd)"
    torch.testing.assert_close(got.detach(), want, msg=lambda m: f"hidden_states differ from GPT2Model's last_hidden_state (after ln_f, before lm_head)\n{m}")


def test_last_token_index():
    got = last_token_index(padded_batch(), PAD_ID)
    assert got.tolist() == [5, 2, 0], f"last_token_index gave {got.tolist()}, expected [5, 2, 0]: the last position that is not padding"
    inside = torch.tensor([[3, PAD_ID, 5, PAD_ID, PAD_ID], [3, 4, PAD_ID, 6, 7]])  # pad_id inside the text too
    got = last_token_index(inside, PAD_ID)
    assert got.tolist() == [2, 4], (
        f"last_token_index({inside.tolist()}, pad_id={PAD_ID}) gave {got.tolist()}, expected [2, 4]: the LAST position "
        "that is not pad_id, even when pad_id also occurs earlier (GPT-2 pads with its end-of-text token); the "
        "number of real tokens minus one is not it"
    )
    with raises_value_error("padding", "a row that is all padding should raise ValueError"):
        last_token_index(torch.full((1, 3), PAD_ID), PAD_ID)


def test_reward_model_equals_transformers_sequence_classification():
    from transformers import GPT2Config, GPT2ForSequenceClassification

    rm = RewardModel(tiny_gpt(1), pad_id=PAD_ID).double().eval()
    assert isinstance(rm.head, torch.nn.Linear) and rm.head.weight.shape == (1, 16), "RewardModel.head should be nn.Linear(n_embd, 1)"
    c = rm.gpt.config
    hf = GPT2ForSequenceClassification(GPT2Config(
        vocab_size=c.vocab_size, n_positions=c.block_size, n_embd=c.n_embd, n_layer=c.n_layer, n_head=c.n_head,
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, num_labels=1, pad_token_id=PAD_ID, bos_token_id=0, eos_token_id=0,
    ))  # fmt: skip
    state = {k: v for k, v in rm.gpt.hf_state_dict().items() if k != "lm_head.weight"}
    state["score.weight"] = rm.head.weight.detach()
    hf.load_state_dict(state, strict=False)
    hf = hf.double().eval()
    ids = padded_batch()
    got = rm(ids)
    assert got.shape == (3,), f"RewardModel gave shape {tuple(got.shape)}, expected (3,): one reward per sequence"
    with torch.no_grad():
        want = hf(ids).logits.squeeze(-1)
    torch.testing.assert_close(got.detach(), want, msg=lambda m: (
        f"rewards {got.tolist()} differ from GPT2ForSequenceClassification's {want.tolist()}: read the head at the LAST "
        f"NON-PAD token of each row (not the first token, not the last position, which may be padding)\n{m}"
    ))  # fmt: skip


def test_padding_does_not_change_a_reward():
    rm = RewardModel(tiny_gpt(2), pad_id=PAD_ID).eval()
    ids = padded_batch()
    batched = rm(ids)
    for row, length in enumerate([6, 3, 1]):
        alone = rm(ids[row : row + 1, :length])
        assert torch.allclose(batched[row], alone[0], atol=1e-6), (
            f"row {row} scores {batched[row].item():.5f} in a padded batch but {alone[0].item():.5f} alone: the score must come from its last real token"
        )


def test_bradley_terry_loss():
    chosen, rejected = torch.tensor([2.0, -1.0, 0.5, 30.0]), torch.tensor([1.0, 1.0, 0.5, -30.0])
    got = bradley_terry_loss(chosen, rejected)
    want = F.binary_cross_entropy_with_logits(chosen - rejected, torch.ones(4))  # -log sigmoid(c - r), averaged
    assert torch.allclose(got, want), (
        f"bradley_terry_loss = {got.item():.5f}, expected -mean(log sigmoid(chosen - rejected)) = {want.item():.5f}"
        + (": chosen and rejected are swapped" if torch.allclose(got, F.binary_cross_entropy_with_logits(rejected - chosen, torch.ones(4))) else "")
    )
    far = bradley_terry_loss(torch.tensor([-200.0]), torch.tensor([200.0]))
    assert torch.isfinite(far) and torch.allclose(far, torch.tensor(400.0)), f"a pair 400 apart gave loss {far.item()}, expected 400: use F.logsigmoid, not log(sigmoid(.))"
    scores = torch.tensor([0.3, -0.2], requires_grad=True)
    bradley_terry_loss(scores[:1], scores[1:]).backward()
    assert scores.grad[0] < 0 < scores.grad[1], f"the gradient {scores.grad.tolist()} should push the chosen reward up and the rejected one down"


def test_pairwise_accuracy():
    got = pairwise_accuracy(torch.tensor([2.0, 0.0, 1.0, 5.0]), torch.tensor([1.0, 3.0, 1.0, -1.0]))
    assert got == 0.5, f"pairwise_accuracy gave {got}, expected 0.5: 2 of 4 pairs have chosen strictly above rejected (a tie is not right)"
    assert isinstance(got, float), f"pairwise_accuracy should return a Python float, got {type(got).__name__}"


def test_reward_model_learns_a_preference_and_generalises():
    """Pairs prefer sequences holding token 7 over those holding token 8; held-out pairs use new contexts."""
    generator = torch.Generator().manual_seed(0)

    def pairs(n):
        context = torch.randint(10, 40, (n, 6), generator=generator)
        where = torch.randint(0, 6, (n,), generator=generator)
        chosen, rejected = context.clone(), context.clone()
        chosen[torch.arange(n), where] = 7
        rejected[torch.arange(n), where] = 8
        return chosen, rejected

    torch.manual_seed(3)
    rm = RewardModel(tiny_gpt(3), pad_id=PAD_ID)
    optimizer = torch.optim.AdamW(rm.parameters(), lr=3e-3)
    test_chosen, test_rejected = pairs(200)
    for _ in range(40):
        chosen, rejected = pairs(32)
        loss = bradley_terry_loss(rm(chosen), rm(rejected))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        accuracy = pairwise_accuracy(rm(test_chosen), rm(test_rejected))
    assert accuracy >= 0.9, f"after 40 Bradley-Terry steps the reward model ranks {accuracy:.0%} of held-out pairs right, expected >= 90%"
