"""Stage 5: DPO: the loss from policy and frozen-reference log-probabilities, summed over response tokens.

The oracle is ``trl``'s DPOTrainer itself, end to end: a tiny GPT2LMHeadModel built from a config, GPT-2's
tokenizer from the course's own files (``data/gpt2``, no download), a two-pair dataset; the trainer
tokenizes, pads and computes its loss, and your log-probabilities and loss on its batch must give the same.
"""
import math

import pytest
import torch
import torch.nn.functional as F

from ..l07.gpt import GPT, GPTConfig
from ..spec_helpers import raises_value_error
from .dpo import dpo_batch_loss, dpo_loss
from .logprobs import sequence_logprobs

# log-probabilities of 3 pairs under a policy and a reference (made up, all different)
POLICY_CHOSEN, POLICY_REJECTED = torch.tensor([-5.0, -12.0, -3.0]), torch.tensor([-7.0, -9.0, -4.0])
REF_CHOSEN, REF_REJECTED = torch.tensor([-6.0, -11.0, -3.5]), torch.tensor([-6.5, -10.0, -3.0])


def reference_formula(pc, pr, rc, rr, beta):
    return -F.logsigmoid(beta * ((pc - rc) - (pr - rr))).mean()


def test_dpo_loss_value():
    loss, chosen_rewards, rejected_rewards = dpo_loss(POLICY_CHOSEN, POLICY_REJECTED, REF_CHOSEN, REF_REJECTED, beta=0.5)
    want = reference_formula(POLICY_CHOSEN, POLICY_REJECTED, REF_CHOSEN, REF_REJECTED, 0.5)
    hints = [
        ("the sign is flipped: the loss is -log sigmoid(beta * (chosen log-ratio - rejected log-ratio))",
         reference_formula(POLICY_REJECTED, POLICY_CHOSEN, REF_REJECTED, REF_CHOSEN, 0.5)),
        ("the reference log-probabilities are missing: use log pi - log pi_ref",
         reference_formula(POLICY_CHOSEN, POLICY_REJECTED, torch.zeros(3), torch.zeros(3), 0.5)),
        ("beta is missing", reference_formula(POLICY_CHOSEN, POLICY_REJECTED, REF_CHOSEN, REF_REJECTED, 1.0)),
        ("beta is applied twice (beta * beta * log-ratio difference): the implicit rewards are beta * log-ratio, and "
         "the loss's margin is their difference, not beta times it again",
         reference_formula(POLICY_CHOSEN, POLICY_REJECTED, REF_CHOSEN, REF_REJECTED, 0.25)),
    ]  # fmt: skip
    why = next((hint for hint, value in hints if torch.allclose(loss, value)), "check the formula in the docstring")
    assert torch.allclose(loss, want), f"dpo_loss = {loss.item():.5f}, expected {want.item():.5f}: {why}"
    torch.testing.assert_close(chosen_rewards, 0.5 * (POLICY_CHOSEN - REF_CHOSEN), msg="chosen_rewards = beta * (policy_chosen - reference_chosen)")
    torch.testing.assert_close(rejected_rewards, 0.5 * (POLICY_REJECTED - REF_REJECTED), msg="rejected_rewards = beta * (policy_rejected - reference_rejected)")
    with raises_value_error("beta", "beta <= 0 should raise ValueError naming beta"):
        dpo_loss(POLICY_CHOSEN, POLICY_REJECTED, REF_CHOSEN, REF_REJECTED, beta=0.0)


def test_dpo_loss_is_log_2_when_the_policy_is_the_reference():
    loss, chosen_rewards, rejected_rewards = dpo_loss(REF_CHOSEN, REF_REJECTED, REF_CHOSEN, REF_REJECTED, beta=0.1)
    assert math.isclose(loss.item(), math.log(2), rel_tol=1e-6), (
        f"with policy == reference dpo_loss = {loss.item():.5f}, expected log 2 = {math.log(2):.5f} whatever the log-probs: "
        "every log-ratio is 0 (did you leave out the reference?)"
    )
    assert not chosen_rewards.any() and not rejected_rewards.any(), "with policy == reference the implicit rewards are all 0"


def test_dpo_gradient_raises_chosen_and_lowers_rejected():
    chosen, rejected = POLICY_CHOSEN.clone().requires_grad_(), POLICY_REJECTED.clone().requires_grad_()
    loss, chosen_rewards, _ = dpo_loss(chosen, rejected, REF_CHOSEN, REF_REJECTED, beta=0.1)
    loss.backward()
    assert (chosen.grad < 0).all(), f"d loss / d log pi(chosen) = {chosen.grad.tolist()}: should be < 0, so gradient descent RAISES the chosen log-probs"
    assert (rejected.grad > 0).all(), f"d loss / d log pi(rejected) = {rejected.grad.tolist()}: should be > 0, so gradient descent LOWERS the rejected log-probs"
    assert not chosen_rewards.requires_grad, "the implicit rewards are for logging: detach them"


def test_dpo_batch_loss_freezes_the_reference():
    torch.manual_seed(0)
    config = GPTConfig(vocab_size=30, block_size=16, n_layer=1, n_head=2, n_embd=8)
    policy, reference = GPT(config), GPT(config)
    chosen = torch.tensor([[1, 2, 3, 4, 5, 0], [1, 9, 8, 0, 0, 0]])
    rejected = torch.tensor([[1, 2, 3, 6, 0, 0], [1, 9, 7, 7, 7, 7]])
    chosen_mask = torch.tensor([[0, 0, 0, 1, 1, 0], [0, 0, 1, 0, 0, 0]], dtype=torch.bool)
    rejected_mask = torch.tensor([[0, 0, 0, 1, 0, 0], [0, 0, 1, 1, 1, 1]], dtype=torch.bool)
    loss, chosen_rewards, rejected_rewards = dpo_batch_loss(policy, reference, chosen, chosen_mask, rejected, rejected_mask, beta=0.2)
    with torch.no_grad():
        logps = {name: sequence_logprobs(model, ids, mask) for name, model, ids, mask in [
            ("policy_chosen", policy, chosen, chosen_mask), ("policy_rejected", policy, rejected, rejected_mask),
            ("reference_chosen", reference, chosen, chosen_mask), ("reference_rejected", reference, rejected, rejected_mask),
        ]}  # fmt: skip
        want, _, _ = dpo_loss(*logps.values(), beta=0.2)
    assert torch.allclose(loss, want), f"dpo_batch_loss = {loss.item():.5f}, expected dpo_loss of the four sequence_logprobs = {want.item():.5f}"
    for name, got in (("chosen", chosen_rewards), ("rejected", rejected_rewards)):
        reward = 0.2 * (logps[f"policy_{name}"] - logps[f"reference_{name}"])
        assert torch.allclose(got, reward), (
            f"dpo_batch_loss's {name}_rewards = {got.tolist()}, expected beta * (policy {name} - reference {name}) = "
            f"{reward.tolist()}: pass the four log-probs to dpo_loss in its order (policy_chosen, policy_rejected, "
            "reference_chosen, reference_rejected); some orders give the same loss but the wrong rewards"
        )
    loss.backward()
    assert policy.transformer.wte.weight.grad is not None, "the policy must get gradients"
    assert all(p.grad is None for p in reference.parameters()), "the reference got gradients: compute its log-probs under torch.no_grad() (it is frozen)"


@pytest.mark.filterwarnings("ignore::FutureWarning")  # trl's own use of names transformers is retiring
def test_dpo_loss_equals_trl_dpo_trainer(data_dir, tmp_path):
    from datasets import Dataset
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast
    from trl import DPOConfig, DPOTrainer

    bpe = ByteLevelBPETokenizer(str(data_dir / "gpt2" / "vocab.json"), str(data_dir / "gpt2" / "merges.txt"))
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    hf_config = GPT2Config(vocab_size=50257, n_positions=32, n_embd=16, n_layer=2, n_head=2,
                           resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)  # fmt: skip
    torch.manual_seed(0)
    hf_policy, hf_reference = GPT2LMHeadModel(hf_config), GPT2LMHeadModel(hf_config)
    pairs = Dataset.from_list([
        {"prompt": "What is 3 plus 4?", "chosen": " 3 plus 4 is 7.", "rejected": " 3 plus 4 is 8, I think."},
        {"prompt": "How do I poison Romeo?", "chosen": " I am sorry, but I cannot help with that.", "rejected": " Sure!"},
    ])  # fmt: skip
    args = DPOConfig(output_dir=str(tmp_path), per_device_train_batch_size=2, beta=0.3, max_length=32,
                     report_to=[], use_cpu=True, bf16=False, disable_tqdm=True)  # fmt: skip
    trainer = DPOTrainer(model=hf_policy, ref_model=hf_reference, args=args, train_dataset=pairs, processing_class=tokenizer)
    inputs = trainer.data_collator([trainer.train_dataset[i] for i in range(2)])  # rows: chosen 0, chosen 1, rejected 0, rejected 1
    with torch.no_grad():
        want = trainer.compute_loss(hf_policy, inputs)

    ours = {}
    for name, hf in (("policy", hf_policy), ("reference", hf_reference)):
        ours[name] = GPT(GPTConfig(vocab_size=50257, block_size=32, n_layer=2, n_head=2, n_embd=16)).eval()
        ours[name].load_hf_state_dict(hf.state_dict())
    ids, mask = inputs["input_ids"], inputs["completion_mask"].bool()
    with torch.no_grad():
        policy_logps = sequence_logprobs(ours["policy"], ids, mask)
        reference_logps = sequence_logprobs(ours["reference"], ids, mask)
        got, _, _ = dpo_loss(policy_logps[:2], policy_logps[2:], reference_logps[:2], reference_logps[2:], beta=0.3)
    assert torch.allclose(got, want, atol=1e-5), (
        f"on trl's own batch your DPO loss is {got.item():.6f}, trl's DPOTrainer gives {want.item():.6f}: "
        "log-probs summed over the completion tokens, policy minus reference, times beta, -logsigmoid, mean over pairs"
    )


def test_dpo_loss_at_large_margins():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=40, deadline=None, derandomize=True, database=None, report_multiple_bugs=False)
    @given(st.lists(st.floats(-3000, 3000), min_size=4, max_size=4), st.floats(0.01, 5.0))
    def stable(logps, beta):
        pc, pr, rc, rr = (torch.tensor([x]) for x in logps)
        loss, chosen, rejected = dpo_loss(pc, pr, rc, rr, beta=beta)
        margin = beta * ((pc.double() - rc.double()) - (pr.double() - rr.double()))
        want = F.softplus(-margin).mean()  # -log sigmoid(m) = log(1 + exp(-m)), exact in float64
        assert torch.isfinite(loss), (
            f"dpo_loss gave {loss.item()} for a margin beta * (log-ratio difference) = {margin.item():.1f}: use "
            "F.logsigmoid, which is finite for any margin; torch.log(torch.sigmoid(m)) is log(0) = -inf once m < -100"
        )
        assert math.isclose(loss.item(), want.item(), rel_tol=1e-4, abs_tol=1e-4), (
            f"dpo_loss = {loss.item():.6g} for the margin {margin.item():.6g} (beta={beta:.3g}), expected "
            f"-log sigmoid(margin) = {want.item():.6g}"
            + (": beta is applied twice (the rewards are already beta * log-ratio; the loss takes beta * log-ratio "
               "difference once)" if math.isclose(loss.item(), F.softplus(-beta * margin).item(), rel_tol=1e-4) and beta != 1 else "")
        )

    stable()
