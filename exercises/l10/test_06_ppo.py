"""Stage 6: PPO: rollouts from the policy, a KL-penalised reward, a value head, GAE, the clipped policy
objective and the clipped value loss, and one update that improves the surrogate objective.
"""
import torch

from ..l07.gpt import GPT, GPTConfig
from ..l09.generate import generate
from ..spec_helpers import raises_value_error
from .ppo import PolicyWithValue, gae, kl_penalized_rewards, ppo_policy_loss, ppo_step, ppo_value_loss, rollout

STOP, PAD = 28, 29


def tiny_gpt(seed: int = 0) -> GPT:
    torch.manual_seed(seed)
    return GPT(GPTConfig(vocab_size=30, block_size=32, n_layer=2, n_head=2, n_embd=16)).eval()


def test_policy_with_value_head():
    gpt = tiny_gpt()
    agent = PolicyWithValue(gpt)
    ids = torch.randint(0, 30, (3, 7), generator=torch.Generator().manual_seed(0))
    logits, values = agent(ids)
    assert logits.shape == (3, 7, 30) and values.shape == (3, 7), f"PolicyWithValue gave {tuple(logits.shape)} and {tuple(values.shape)}, expected (3, 7, 30) and (3, 7)"
    torch.testing.assert_close(logits, gpt(ids)[0], msg="the policy's logits must be the GPT's own (same backbone, same lm_head)")
    assert not values.any(), "the value head starts at zero (weight and bias), so the first values are 0"
    for shape in [(1, 7), (3, 1), (1, 1)]:
        logits, values = agent(ids[: shape[0], : shape[1]])
        assert logits.shape == (*shape, 30) and values.shape == shape, (
            f"PolicyWithValue on ids of shape {shape} gave {tuple(logits.shape)} and {tuple(values.shape)}, expected "
            f"{(*shape, 30)} and {shape}: squeeze only the value head's last dim (.squeeze(-1)); a bare .squeeze() "
            "also drops a batch of one or a single position"
        )
    torch.nn.init.normal_(agent.value_head.weight)
    values = agent(ids)[1]
    values.sum().backward()
    assert gpt.transformer.h[0].attn.c_attn.weight.grad is not None, "the value head reads the backbone's hidden states: the value loss must reach the backbone"


def test_rollout_samples_replies_and_masks_them():
    gpt = tiny_gpt(1)
    prompts = [[1, 2, 3], [4, 5], [6, 7, 8], [9]]
    ids, mask = rollout(gpt, prompts, max_new_tokens=6, stop_id=STOP, pad_id=PAD, temperature=0.0)
    assert ids.shape[0] == 4 and ids.shape == mask.shape and mask.dtype == torch.bool, f"rollout gave ids {tuple(ids.shape)} and mask {tuple(mask.shape)} {mask.dtype}, expected (4, T) and a bool mask of the same shape"
    for row, prompt in enumerate(prompts):
        want = generate(gpt, torch.tensor([prompt]), 6, temperature=0.0, stop_tokens=(STOP,))[0].tolist()
        reply = ids[row][mask[row]].tolist()
        assert ids[row, : len(prompt)].tolist() == prompt and not mask[row, : len(prompt)].any(), f"row {row} must start with its prompt {prompt}, masked False"
        assert prompt + reply == want, f"row {row}: prompt + greedy reply = {prompt + reply}, expected L09's generate: {want}"
        assert (ids[row, len(prompt) + len(reply) :] == PAD).all(), f"row {row}: after the reply comes padding ({PAD}), got {ids[row].tolist()}"


def test_rollout_stops_at_the_stop_token():
    gpt = tiny_gpt(2)  # 30 tokens: a random model stops with probability about 1/30 a step
    generator = torch.Generator().manual_seed(0)
    ids, mask = rollout(gpt, [[1, 2]] * 8 + [[3]] * 8, max_new_tokens=8, stop_id=STOP, pad_id=PAD, generator=generator)
    stopped = 0
    for row in range(16):
        reply = ids[row][mask[row]].tolist()
        assert 1 <= len(reply) <= 8, f"row {row}: a reply of {len(reply)} tokens, expected 1 to 8 (max_new_tokens)"
        assert STOP not in reply[:-1], f"row {row}: the reply {reply} goes on after the stop token {STOP}: cut it after the first one"
        stopped += reply[-1] == STOP
    assert stopped > 0, "no sampled reply ended with the stop token: stop_id must be passed to generate's stop_tokens"


def test_kl_penalized_rewards():
    scores = torch.tensor([2.0, -1.0])
    logprobs = torch.tensor([[-9.0, -1.0, -2.0, -1.0], [-9.0, -3.0, -0.5, -9.0]])
    reference = torch.tensor([[-9.0, -1.5, -1.0, -4.0], [-1.0, -2.0, -2.5, -1.0]])
    mask = torch.tensor([[False, True, True, False], [False, True, True, False]])
    got = kl_penalized_rewards(scores, logprobs, reference, mask, kl_coef=0.1)
    want = torch.tensor([[0.0, -0.05, 0.1 + 2.0, 0.0], [0.0, 0.1, -0.2 - 1.0, 0.0]])
    assert got.shape == want.shape, f"kl_penalized_rewards gave shape {tuple(got.shape)}, expected {tuple(want.shape)}"
    flipped = torch.tensor([[0.0, 0.05, -0.1 + 2.0, 0.0], [0.0, -0.1, 0.2 - 1.0, 0.0]])
    why = ("the KL penalty has the wrong sign: reward -= kl_coef * (log pi - log pi_ref)" if torch.allclose(got, flipped)
           else "-kl_coef * (logprobs - reference) on reply tokens, the score added on the last reply token, 0 elsewhere")
    torch.testing.assert_close(got, want, msg=lambda m: f"kl_penalized_rewards gave {got.tolist()}, expected {want.tolist()}: {why}\n{m}")
    # replies at the edges: the first action alone (a one-token prompt and a one-token reply), and up to the last
    edge_mask = torch.tensor([[True, False, False], [False, True, True]])
    got = kl_penalized_rewards(torch.tensor([1.0, 2.0]), torch.zeros(2, 3), torch.zeros(2, 3), edge_mask, kl_coef=0.1)
    want = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 2.0]])
    torch.testing.assert_close(got, want, msg=lambda m: (
        f"kl_penalized_rewards with the reply masks {edge_mask.tolist()} put the scores [1.0, 2.0] at {got.tolist()}, expected "
        f"{want.tolist()}: the score goes on the LAST True of each row, also when that is column 0 or the last column\n{m}"
    ))  # fmt: skip


def test_gae_hand_computed():
    # One reply of 3 tokens after a prompt (column 0) and before padding (column 4); gamma 0.9, lam 0.8.
    rewards = torch.tensor([[0.0, 0.1, -0.2, 1.0, 0.0]])
    values = torch.tensor([[9.0, 0.5, 0.4, 0.3, 9.0]])
    mask = torch.tensor([[False, True, True, True, False]])
    # By hand, from the end (V after the last reply token is 0):
    #   delta_3 = 1.0 + 0.9 * 0   - 0.3 =  0.7      A_3 = 0.7
    #   delta_2 = -0.2 + 0.9 * 0.3 - 0.4 = -0.33    A_2 = -0.33 + 0.72 * 0.7    =  0.174
    #   delta_1 = 0.1 + 0.9 * 0.4 - 0.5 = -0.04     A_1 = -0.04 + 0.72 * 0.174 =  0.08528
    want_advantages = torch.tensor([[0.0, 0.08528, 0.174, 0.7, 0.0]])
    want_returns = torch.tensor([[0.0, 0.58528, 0.574, 1.0, 0.0]])
    advantages, returns = gae(rewards, values, mask, gamma=0.9, lam=0.8)
    torch.testing.assert_close(advantages, want_advantages, msg=lambda m: (
        f"gae advantages {advantages.tolist()}, expected {want_advantages.tolist()}: delta_t = r_t + gamma V_(t+1) - V_t, "
        f"A_t = delta_t + gamma * lam * A_(t+1), V = 0 after the reply, 0 outside it\n{m}"
    ))  # fmt: skip
    torch.testing.assert_close(returns, want_returns, msg=lambda m: f"returns = advantages + values on reply tokens, got {returns.tolist()}\n{m}")


def test_gae_limits():
    generator = torch.Generator().manual_seed(0)
    rewards, values = torch.randn(3, 6, generator=generator), torch.randn(3, 6, generator=generator)
    mask = torch.tensor([[0, 1, 1, 1, 1, 0], [0, 0, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]], dtype=torch.bool)
    one_step, _ = gae(rewards, values, mask, gamma=0.7, lam=0.0)
    next_values = torch.cat([values[:, 1:] * mask[:, 1:], torch.zeros(3, 1)], dim=1)
    torch.testing.assert_close(one_step, (rewards + 0.7 * next_values - values) * mask, msg="lam = 0: the advantage is the one-step TD error r_t + gamma V_(t+1) - V_t")
    monte_carlo, returns = gae(rewards, values, mask, gamma=1.0, lam=1.0)
    future = torch.flip(torch.cumsum(torch.flip(rewards * mask, [1]), 1), [1])  # sum of rewards from t to the end
    torch.testing.assert_close(monte_carlo, (future - values) * mask, msg="gamma = lam = 1: the advantage is the sum of the rewards to come minus V_t")
    torch.testing.assert_close(returns, future * mask, msg="gamma = lam = 1: the returns are the sums of the rewards to come")
    advantages, returns = gae(rewards.requires_grad_(), values.requires_grad_(), mask, gamma=0.9, lam=0.9)
    assert not advantages.requires_grad and not returns.requires_grad, (
        "gae's advantages and returns carry a gradient back into the values (or rewards): they are fixed targets "
        "for the update, computed from detached rewards and values (.detach() them first)"
    )


def _gae_oracle(rewards, values, mask, gamma, lam):
    """GAE written out one row and one token at a time, in float64."""
    advantages = torch.zeros(rewards.shape, dtype=torch.float64)
    for b in range(rewards.shape[0]):
        next_value = next_advantage = 0.0
        for t in reversed(range(rewards.shape[1])):
            if not mask[b, t]:
                next_value = next_advantage = 0.0
                continue
            delta = rewards[b, t].item() + gamma * next_value - values[b, t].item()
            next_advantage = delta + gamma * lam * next_advantage
            advantages[b, t] = next_advantage
            next_value = values[b, t].item()
    return advantages, (advantages + values.double()) * mask


def test_rewards_and_gae_keep_dtype_inputs_and_rows():
    """Generic contract: float64 in gives float64 out at float64 precision, the caller's tensors are not changed, and
    row b of a batch equals the call on row b alone."""
    g = torch.Generator().manual_seed(70)
    B, T = 3, 6
    scores = torch.randn(B, generator=g, dtype=torch.float64)
    logprobs, reference = -torch.rand(B, T, generator=g, dtype=torch.float64) * 3, -torch.rand(B, T, generator=g, dtype=torch.float64) * 3
    values = torch.randn(B, T, generator=g, dtype=torch.float64)
    mask = torch.tensor([[0, 1, 1, 1, 1, 0], [0, 0, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]], dtype=torch.bool)
    inputs = {"scores": scores, "logprobs": logprobs, "reference_logprobs": reference, "values": values, "action_mask": mask}
    before = {name: t.clone() for name, t in inputs.items()}
    rewards = kl_penalized_rewards(scores, logprobs, reference, mask, kl_coef=0.05)
    want = -0.05 * (logprobs - reference) * mask
    for b in range(B):
        want[b, mask[b].nonzero().max()] += scores[b]
    for name, t in inputs.items():
        assert torch.equal(t, before[name]), (
            f"kl_penalized_rewards changed the caller's {name}: never compute in place in an input (sub_, mul_, -=); "
            "make new tensors")
    assert rewards.dtype == torch.float64 and torch.allclose(rewards, want, rtol=0, atol=1e-13), (
        f"kl_penalized_rewards of float64 inputs gave {rewards.dtype}, off by {(rewards.double() - want).abs().max().item():.3g}: "
        "keep the inputs' dtype (no torch.zeros(shape) buffers, which are float32)")
    rewards_before = rewards.clone()
    advantages, returns = gae(rewards, values, mask, gamma=0.9, lam=0.8)
    want_advantages, want_returns = _gae_oracle(rewards, values, mask, 0.9, 0.8)
    assert torch.equal(rewards, rewards_before) and torch.equal(values, before["values"]), (
        "gae changed the caller's rewards or values: .detach() shares their storage, so writing into a detached input "
        "writes into the caller's tensor; fill a new torch.zeros_like(rewards)")
    for name, got, want in (("advantages", advantages, want_advantages), ("returns", returns, want_returns)):
        assert got.dtype == torch.float64 and torch.allclose(got, want, rtol=0, atol=1e-12), (
            f"gae's {name} of float64 inputs are {got.dtype}, off by {(got.double() - want).abs().max().item():.3g}: keep the "
            "inputs' dtype and precision (torch.zeros_like(rewards), not torch.zeros(rewards.shape), which is float32)")
    for b in (0, B - 1):
        alone, _ = gae(rewards[b:b + 1], values[b:b + 1], mask[b:b + 1], gamma=0.9, lam=0.8)
        assert torch.equal(alone[0], advantages[b]), (
            f"gae of row {b} alone differs from row {b} of the batch: every row is its own episode; nothing may run across rows")

def test_clipped_policy_loss_value():
    logprobs = torch.log(torch.tensor([[1.5, 0.5, 1.1, 0.9, 7.0]]))
    advantages = torch.tensor([[1.0, -2.0, 1.0, -1.0, 3.0]])
    mask = torch.tensor([[True, True, True, True, False]])
    loss, clip_fraction = ppo_policy_loss(logprobs, torch.zeros(1, 5), advantages, mask, clip_range=0.2)
    # min(r A, clip(r) A): 1.5 -> 1.2 * 1 = 1.2;  0.5 -> 0.8 * -2 = -1.6;  1.1 * 1 = 1.1;  0.9 * -1 = -0.9
    want = -(1.2 - 1.6 + 1.1 - 0.9) / 4
    assert torch.allclose(loss, torch.tensor(want)), f"ppo_policy_loss = {loss.item():.5f}, expected {want:.5f}: -mean(min(ratio * A, clip(ratio, 0.8, 1.2) * A)) over reply tokens"
    assert torch.allclose(clip_fraction, torch.tensor(0.5)), f"clip_fraction = {clip_fraction.item()}, expected 0.5 (2 of the 4 reply tokens are clipped)"


def test_no_gradient_beyond_the_clip_range():
    # ratio far above 1 + eps with A > 0, far below 1 - eps with A < 0: clipped, no gradient.
    # The same ratios with the opposite advantages: the unclipped term is the smaller one, the gradient flows.
    ratios = torch.tensor([[1.5, 0.5, 1.5, 0.5, 1.1]])
    advantages = torch.tensor([[1.0, -1.0, -1.0, 1.0, 1.0]])
    logprobs = torch.log(ratios).requires_grad_()
    old_logprobs, advantages = torch.zeros(1, 5, requires_grad=True), advantages.requires_grad_()
    loss, _ = ppo_policy_loss(logprobs, old_logprobs, advantages, torch.ones(1, 5, dtype=torch.bool), clip_range=0.2)
    loss.backward()
    grad = logprobs.grad[0]
    assert old_logprobs.grad is None and advantages.grad is None, (
        "ppo_policy_loss sent a gradient into old_logprobs or advantages: they come from the rollout, before the "
        "update, and are constants of the objective (.detach() them); only logprobs is trained"
    )
    assert grad[0] == 0 and grad[1] == 0, (
        f"gradient {grad.tolist()}: tokens 0 (ratio 1.5, A > 0) and 1 (ratio 0.5, A < 0) are past the clip range in the "
        "direction the advantage wants, so their gradient must be exactly 0 (min of the unclipped and clipped terms)"
    )
    assert (grad[2:] != 0).all(), (
        f"gradient {grad.tolist()}: tokens 2 and 3 moved the WRONG way (ratio 1.5 with A < 0, 0.5 with A > 0) and token 4 "
        "is inside the range: they must keep their gradient (the clip is pessimistic, it never hides a loss)"
    )


def test_clipped_value_loss():
    values = torch.tensor([[1.0, 0.1, 5.0]], requires_grad=True)
    old, returns = torch.tensor([[0.0, 0.0, 0.0]], requires_grad=True), torch.tensor([[2.0, 1.0, 0.0]], requires_grad=True)
    mask = torch.tensor([[True, True, False]])
    loss = ppo_value_loss(values, old, returns, mask, clip_range=0.2)
    # token 0: max((1 - 2)^2, (0.2 - 2)^2) = 3.24;  token 1: max((0.1 - 1)^2, (0.1 - 1)^2) = 0.81
    want = 0.5 * (3.24 + 0.81) / 2
    assert torch.allclose(loss, torch.tensor(want)), f"ppo_value_loss = {loss.item():.5f}, expected {want:.5f}: 0.5 * mean(max((V - R)^2, (V_clipped - R)^2)), V_clipped = old + clamp(V - old, -eps, eps)"
    loss.backward()
    assert values.grad[0, 0] == 0 and values.grad[0, 1] != 0, f"gradient {values.grad.tolist()}: the clipped term wins for token 0 (no gradient), not for token 1"
    assert old.grad is None and returns.grad is None, (
        "ppo_value_loss sent a gradient into old_values or returns: they are fixed before the update (the clip's "
        "anchor and the targets), constants of the loss (.detach() them); only values is trained"
    )


def test_one_ppo_step_improves_the_surrogate_objective():
    agent = PolicyWithValue(tiny_gpt(4))
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(0, 28, (4, 10), generator=generator)
    mask = torch.zeros(4, 9, dtype=torch.bool)
    mask[:, 3:] = True
    with torch.no_grad():
        logits, values = agent(ids[:, :-1])
        old_logprobs = torch.log_softmax(logits, -1).gather(-1, ids[:, 1:, None]).squeeze(-1)
    advantages = torch.randn(4, 9, generator=generator) * mask
    batch = {"ids": ids, "action_mask": mask, "old_logprobs": old_logprobs, "old_values": values,
             "advantages": advantages, "returns": advantages + values}  # fmt: skip

    def surrogate():
        with torch.no_grad():
            logits, _ = agent(ids[:, :-1])
            logprobs = torch.log_softmax(logits, -1).gather(-1, ids[:, 1:, None]).squeeze(-1)
            return ((torch.exp(logprobs - old_logprobs) * advantages) * mask).sum() / mask.sum()

    before = surrogate()
    optimizer = torch.optim.SGD(agent.parameters(), lr=0.05)
    stats = ppo_step(agent, optimizer, batch)
    after = surrogate()
    assert after > before, f"one ppo_step moved the surrogate objective mean(ratio * A) from {before.item():.5f} to {after.item():.5f}: it must rise"
    assert set(stats) >= {"policy_loss", "value_loss", "clip_fraction", "approx_kl"}, f"ppo_step should return its statistics, got {sorted(stats)}"
    assert abs(stats["policy_loss"] + before.item()) < 1e-5, f"at the first step ratio = 1, so the policy loss is -mean(A) = {-before.item():.5f}, got {stats['policy_loss']:.5f}"
    with raises_value_error("reply", "kl_penalized_rewards with a row that has no reply token should raise ValueError"):
        kl_penalized_rewards(torch.zeros(1), torch.zeros(1, 3), torch.zeros(1, 3), torch.zeros(1, 3, dtype=torch.bool), 0.1)


def test_clipping_at_both_edges():
    # ratios below, inside and above [0.8, 1.2], each with a positive and a negative advantage
    ratios = torch.tensor([[0.5, 0.5, 0.9, 0.9, 1.5, 1.5, 3.0, 0.1]], dtype=torch.float64)
    advantages = torch.tensor([[1.0, -1.0, 1.0, -1.0, 1.0, -1.0, -2.0, 2.0]], dtype=torch.float64)
    mask = torch.ones(1, 8, dtype=torch.bool)
    logprobs = torch.log(ratios).requires_grad_()
    loss, clip_fraction = ppo_policy_loss(logprobs, torch.zeros(1, 8, dtype=torch.float64), advantages, mask, clip_range=0.2)
    terms = torch.minimum(ratios * advantages, ratios.clamp(0.8, 1.2) * advantages)
    assert torch.allclose(loss.double(), -terms.mean()), f"ppo_policy_loss = {loss.item():.5f}, expected {-terms.mean().item():.5f}: clip the ratio at BOTH edges, 1 - eps and 1 + eps"
    clipped = (ratios.clamp(0.8, 1.2) * advantages < ratios * advantages).double().mean()  # tokens 1 and 4 only
    assert torch.allclose(clip_fraction.double(), clipped), (
        f"clip_fraction = {clip_fraction.item():.4f}, expected {clipped.item():.4f} (2 of 8): a token counts when its "
        "CLIPPED term is the smaller one (gradient 0). A ratio outside the range whose unclipped term is the smaller "
        "(ratio 0.5 with A > 0, 1.5 with A < 0, 3.0 with A < 0, 0.1 with A > 0) is not clipped: do not count "
        "|ratio - 1| > eps"
    )
    loss.backward()
    zero = logprobs.grad[0] == 0
    assert zero.tolist() == [False, True, False, False, True, False, False, False], (
        f"gradient {logprobs.grad[0].tolist()}: only tokens 1 (ratio 0.5, A < 0) and 4 (ratio 1.5, A > 0) are past the "
        "clip range the way their advantage wants; every other token keeps its gradient"
    )
    values = torch.tensor([[1.0, -1.0, 0.1, -0.1, 0.5, -0.5]], dtype=torch.float64, requires_grad=True)
    old = torch.zeros(1, 6, dtype=torch.float64)
    returns = torch.tensor([[2.0, -2.0, 1.0, -1.0, -3.0, 3.0]], dtype=torch.float64)
    vmask = torch.ones(1, 6, dtype=torch.bool)
    got = ppo_value_loss(values, old, returns, vmask, clip_range=0.2)
    v_clip = old + (values.detach() - old).clamp(-0.2, 0.2)
    want = 0.5 * torch.maximum((values.detach() - returns) ** 2, (v_clip - returns) ** 2).mean()
    assert torch.allclose(got.double(), want), (
        f"ppo_value_loss = {got.item():.5f}, expected {want.item():.5f}: V_clipped = old + clamp(V - old, -eps, eps) "
        "clips a value that moved DOWN as well as one that moved up"
    )


def written_out_ppo_step(twin, value_head, batch, *, clip_range, value_clip_range, value_coef, max_grad_norm, lr):
    """The oracle: one PPO update written out on a copy of the GPT and a value head of its own (the hidden states
    read at ln_f's output), with plain SGD. Returns the statistics ppo_step must report, and the gradient norm."""
    hidden = {}
    hook = twin.transformer.ln_f.register_forward_hook(lambda module, inputs, output: hidden.update(h=output))
    ids, mask, advantages = batch["ids"], batch["action_mask"], batch["advantages"]
    logits = twin(ids[:, :-1])[0]
    hook.remove()
    values = value_head(hidden["h"]).squeeze(-1)
    logprobs = torch.log_softmax(logits, -1).gather(-1, ids[:, 1:, None]).squeeze(-1)
    ratio = torch.exp(logprobs - batch["old_logprobs"])
    unclipped, clipped = ratio * advantages, ratio.clamp(1 - clip_range, 1 + clip_range) * advantages
    policy_loss = -(torch.minimum(unclipped, clipped) * mask).sum() / mask.sum()
    old_values, returns = batch["old_values"], batch["returns"]
    v_clip = old_values + (values - old_values).clamp(-value_clip_range, value_clip_range)
    value_loss = 0.5 * (torch.maximum((values - returns) ** 2, (v_clip - returns) ** 2) * mask).sum() / mask.sum()
    params = list(twin.parameters()) + list(value_head.parameters())
    for p in params:
        p.grad = None
    (policy_loss + value_coef * value_loss).backward()
    norm = torch.nn.utils.clip_grad_norm_(params, max_grad_norm)
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
    stats = {
        "policy_loss": policy_loss.item(), "value_loss": value_loss.item(),
        "clip_fraction": ((clipped < unclipped) & mask).sum().item() / mask.sum().item(),
        "approx_kl": ((batch["old_logprobs"] - logprobs.detach()) * mask).sum().item() / mask.sum().item(),
    }  # fmt: skip
    return stats, norm.item()


def zero_value_head() -> torch.nn.Linear:
    value_head = torch.nn.Linear(16, 1)
    torch.nn.init.zeros_(value_head.weight)
    torch.nn.init.zeros_(value_head.bias)
    return value_head


STAT_MEANINGS = {
    "policy_loss": "the clipped policy loss before the update, with clip_range={clip_range} (not the default 0.2)",
    "value_loss": "the clipped value loss before the update, with value_clip_range={value_clip_range} (not clip_range, not the default 0.2)",
    "clip_fraction": "the share of reply tokens whose clipped term is the smaller one",
    "approx_kl": "the mean over reply tokens of old_logprobs - logprobs, the log-probs before the update (not their sum, not the mask's mean)",
}


def check_ppo_step(stats, want, agent, gpt, twin, value_head, settings, when, why="", clipped=False):
    for name, meaning in STAT_MEANINGS.items():
        got = stats.get(name)
        assert got is not None and abs(got - want[name]) < 1e-5, (
            f"{when}: ppo_step's {name} = {got}, expected {want[name]:.6f}, {meaning.format(**settings)}{why}"
        )
    ours = list(gpt.parameters()) + [agent.value_head.weight, agent.value_head.bias]
    written_out = list(twin.parameters()) + [value_head.weight, value_head.bias]
    moved = max((a.detach() - b.detach()).abs().max().item() for a, b in zip(ours, written_out))
    assert moved < 1e-6, (
        f"{when}: the parameters differ from the update written out by {moved:.3g}: loss = policy loss + value_coef * "
        f"value loss (value_coef={settings['value_coef']} here, not 1), its gradients alone, then "
        f"clip_grad_norm_(policy.parameters(), max_grad_norm) (max_grad_norm={settings['max_grad_norm']} here"
        + (", smaller than the gradient's norm" if clipped else "") + f") before optimizer.step(){why}"
    )


def test_ppo_step_is_one_clipped_gradient_step():
    import copy

    gpt = tiny_gpt(5)
    twin = copy.deepcopy(gpt)  # the oracle's copy, taken before your code sees the model
    generator = torch.Generator().manual_seed(5)
    ids = torch.randint(0, 28, (3, 9), generator=generator)
    mask = torch.zeros(3, 8, dtype=torch.bool)
    mask[:, 2:] = True
    old_logprobs = torch.randn(3, 8, generator=generator) * 0.1 - 3.0
    old_values = torch.randn(3, 8, generator=generator) * 0.1
    advantages = torch.randn(3, 8, generator=generator) * mask
    returns = torch.randn(3, 8, generator=generator) * mask
    settings = dict(clip_range=0.1, value_clip_range=0.05, value_coef=0.37, max_grad_norm=0.05)
    batch = {"ids": ids, "action_mask": mask, "old_logprobs": old_logprobs, "old_values": old_values,
             "advantages": advantages, "returns": returns}  # fmt: skip
    value_head = zero_value_head()
    want, norm = written_out_ppo_step(twin, value_head, batch, **settings, lr=0.1)
    assert norm > 0.05, "the spec's own setting: the gradient norm must exceed max_grad_norm"
    assert 0 < want["clip_fraction"] < 1, "the spec's own setting: some tokens are clipped, some not"

    agent = PolicyWithValue(gpt)
    optimizer = torch.optim.SGD(agent.parameters(), lr=0.1)
    stats = ppo_step(agent, optimizer, batch, **settings)
    check_ppo_step(stats, want, agent, gpt, twin, value_head, settings, "after one ppo_step (SGD, lr 0.1)", clipped=True)


def test_ppo_step_again_on_one_token_replies():
    """PPO's minibatches: two ppo_steps in a row, on two batches in which every reply is one token ((4, 2) ids)."""
    import copy

    gpt = tiny_gpt(7)
    twin = copy.deepcopy(gpt)  # the oracle's copy, taken before your code sees the model
    generator = torch.Generator().manual_seed(7)

    def one_token_replies():
        return {"ids": torch.randint(0, 28, (4, 2), generator=generator), "action_mask": torch.ones(4, 1, dtype=torch.bool),
                "old_logprobs": torch.randn(4, 1, generator=generator) * 0.1 - 3.0,
                "old_values": torch.randn(4, 1, generator=generator) * 0.1,
                "advantages": torch.randn(4, 1, generator=generator), "returns": torch.randn(4, 1, generator=generator)}  # fmt: skip

    settings = dict(clip_range=0.1, value_clip_range=0.05, value_coef=0.37, max_grad_norm=1.0)
    value_head = zero_value_head()
    agent = PolicyWithValue(gpt)
    optimizer = torch.optim.SGD(agent.parameters(), lr=0.1)
    whys = [
        ": with one action per row the log-probs are (B, 1): squeeze only the gathered last dim (.squeeze(-1)), or "
        "(B,) against (B, 1) broadcasts to (B, B)",
        ": the second step must use the second batch's gradients only: optimizer.zero_grad() before backward(), or "
        "the first step's gradients add to them",
    ]
    for step, why in enumerate(whys, start=1):
        batch = one_token_replies()
        want, _ = written_out_ppo_step(twin, value_head, batch, **settings, lr=0.1)
        stats = ppo_step(agent, optimizer, batch, **settings)
        check_ppo_step(stats, want, agent, gpt, twin, value_head, settings, f"ppo_step number {step} (one-token replies)", why)


def test_rollout_draws_in_length_order():
    gpt = tiny_gpt(6)
    prompts = [[1, 2, 3], [4], [5, 6, 7], [8, 9], [10]]
    ids, mask = rollout(gpt, prompts, max_new_tokens=5, stop_id=STOP, pad_id=PAD, temperature=1.0,
                        generator=torch.Generator().manual_seed(6))  # fmt: skip
    replies, _ = _replies_by_length(gpt, prompts, 5, seed=6)
    for row, reply in replies.items():
        length = len(prompts[row])
        got = ids[row][mask[row]].tolist()
        assert got == reply, (
            f"row {row} (a prompt of {length}): sampled reply {got}, expected {reply} from the same seed. Generate "
            "the prompts of one length together, one generate call per length, SHORTEST first, with the "
            "generator and temperature passed on; rows come back in the prompts' order"
        )


def _replies_by_length(gpt, prompts, max_new_tokens, seed):
    """What rollout must sample: one generate call per prompt length, shortest first (the generator's order), each
    reply cut after its stop token; and, per group, whether generate ended before max_new_tokens."""
    generator = torch.Generator().manual_seed(seed)
    replies, early = {}, []
    for length in sorted({len(prompt) for prompt in prompts}):
        rows = [row for row, prompt in enumerate(prompts) if len(prompt) == length]
        out = generate(gpt, torch.tensor([prompts[row] for row in rows]), max_new_tokens, temperature=1.0, stop_tokens=(STOP,), generator=generator)
        early.append(out.shape[1] < length + max_new_tokens)
        for row, sequence in zip(rows, out.tolist()):
            reply = sequence[length:]
            replies[row] = reply[: reply.index(STOP) + 1] if STOP in reply else reply
    return replies, early


def test_rollout_stops_sampling_once_every_reply_has_ended():
    gpt = tiny_gpt(8)
    with torch.no_grad():  # a model that ignores the context: <stop> has logit 3, every other token 0 (p(stop) = 0.41)
        gpt.transformer.ln_f.weight.zero_()
        gpt.transformer.ln_f.bias.zero_()
        gpt.transformer.ln_f.bias[0] = 1.0
        gpt.transformer.wte.weight.zero_()  # tied: also lm_head's
        gpt.transformer.wte.weight[STOP, 0] = 3.0
    prompts = [[1], [2, 3], [4], [5, 6], [7], [8, 9, 10]]
    ids, mask = rollout(gpt, prompts, max_new_tokens=10, stop_id=STOP, pad_id=PAD, temperature=1.0,
                        generator=torch.Generator().manual_seed(8))  # fmt: skip
    replies, early = _replies_by_length(gpt, prompts, 10, seed=8)
    for row, reply in replies.items():
        got = ids[row][mask[row]].tolist()
        assert got == reply, (
            f"row {row} (a prompt of {len(prompts[row])}): sampled reply {got}, expected {reply} from the same seed. Call "
            "generate with stop_tokens=(stop_id,): once every reply of a group has ended it stops sampling, so "
            "the next group draws from where the generator really is (cutting the replies afterwards is not enough)"
        )
    assert early[0], "the spec's own setting: the first group must end before max_new_tokens"
