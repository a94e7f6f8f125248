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
    loss, _ = ppo_policy_loss(logprobs, torch.zeros(1, 5), advantages, torch.ones(1, 5, dtype=torch.bool), clip_range=0.2)
    loss.backward()
    grad = logprobs.grad[0]
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
    old, returns = torch.tensor([[0.0, 0.0, 0.0]]), torch.tensor([[2.0, 1.0, 0.0]])
    mask = torch.tensor([[True, True, False]])
    loss = ppo_value_loss(values, old, returns, mask, clip_range=0.2)
    # token 0: max((1 - 2)^2, (0.2 - 2)^2) = 3.24;  token 1: max((0.1 - 1)^2, (0.1 - 1)^2) = 0.81
    want = 0.5 * (3.24 + 0.81) / 2
    assert torch.allclose(loss, torch.tensor(want)), f"ppo_value_loss = {loss.item():.5f}, expected {want:.5f}: 0.5 * mean(max((V - R)^2, (V_clipped - R)^2)), V_clipped = old + clamp(V - old, -eps, eps)"
    loss.backward()
    assert values.grad[0, 0] == 0 and values.grad[0, 1] != 0, f"gradient {values.grad.tolist()}: the clipped term wins for token 0 (no gradient), not for token 1"


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
    settings = dict(clip_range=0.2, value_clip_range=0.2, value_coef=0.37, max_grad_norm=0.05)

    # The oracle: the same update written out on the twin (hidden states read at ln_f's output).
    value_head = torch.nn.Linear(16, 1)
    torch.nn.init.zeros_(value_head.weight)
    torch.nn.init.zeros_(value_head.bias)
    hidden = {}
    twin.transformer.ln_f.register_forward_hook(lambda module, inputs, output: hidden.update(h=output))
    logits = twin(ids[:, :-1])[0]
    values = value_head(hidden["h"]).squeeze(-1)
    logprobs = torch.log_softmax(logits, -1).gather(-1, ids[:, 1:, None]).squeeze(-1)
    ratio = torch.exp(logprobs - old_logprobs)
    policy_loss = -(torch.minimum(ratio * advantages, ratio.clamp(0.8, 1.2) * advantages) * mask).sum() / mask.sum()
    v_clip = old_values + (values - old_values).clamp(-0.2, 0.2)
    value_loss = 0.5 * (torch.maximum((values - returns) ** 2, (v_clip - returns) ** 2) * mask).sum() / mask.sum()
    oracle_params = list(twin.parameters()) + list(value_head.parameters())
    (policy_loss + 0.37 * value_loss).backward()
    norm = torch.nn.utils.clip_grad_norm_(oracle_params, 0.05)
    with torch.no_grad():
        for p in oracle_params:
            p -= 0.1 * p.grad
    assert norm > 0.05, "the spec's own setting: the gradient norm must exceed max_grad_norm"

    agent = PolicyWithValue(gpt)
    optimizer = torch.optim.SGD(agent.parameters(), lr=0.1)
    batch = {"ids": ids, "action_mask": mask, "old_logprobs": old_logprobs, "old_values": old_values,
             "advantages": advantages, "returns": returns}  # fmt: skip
    stats = ppo_step(agent, optimizer, batch, **settings)
    assert abs(stats["policy_loss"] - policy_loss.item()) < 1e-5 and abs(stats["value_loss"] - value_loss.item()) < 1e-5, (
        f"ppo_step's statistics policy_loss={stats['policy_loss']:.6f}, value_loss={stats['value_loss']:.6f}, expected "
        f"{policy_loss.item():.6f} and {value_loss.item():.6f} (the losses before the update)"
    )
    moved = max((a - b).abs().max().item() for a, b in zip(gpt.parameters(), twin.parameters()))
    head = (agent.value_head.weight.detach() - value_head.weight.detach()).abs().max().item()
    assert moved < 1e-6 and head < 1e-6, (
        f"after one ppo_step (SGD, lr 0.1) the parameters differ from the update written out by {max(moved, head):.3g}: "
        "loss = policy loss + value_coef * value loss (value_coef=0.37 here, not 1), then "
        "clip_grad_norm_(policy.parameters(), max_grad_norm) (0.05 here: the gradient is larger) before optimizer.step()"
    )


def test_rollout_draws_in_length_order():
    gpt = tiny_gpt(6)
    prompts = [[1, 2, 3], [4], [5, 6, 7], [8, 9], [10]]
    ids, mask = rollout(gpt, prompts, max_new_tokens=5, stop_id=STOP, pad_id=PAD, temperature=1.0,
                        generator=torch.Generator().manual_seed(6))  # fmt: skip
    generator = torch.Generator().manual_seed(6)
    for length in (1, 2, 3):  # one generate call per prompt length, shortest first: the generator's order
        rows = [row for row, prompt in enumerate(prompts) if len(prompt) == length]
        out = generate(gpt, torch.tensor([prompts[row] for row in rows]), 5, temperature=1.0, stop_tokens=(STOP,), generator=generator)
        for row, sequence in zip(rows, out.tolist()):
            reply = sequence[length:]
            reply = reply[: reply.index(STOP) + 1] if STOP in reply else reply
            got = ids[row][mask[row]].tolist()
            assert got == reply, (
                f"row {row} (a prompt of {length}): sampled reply {got}, expected {reply} from the same seed. Generate "
                "the prompts of one length together, one generate call per length, SHORTEST first, with the "
                "generator and temperature passed on; rows come back in the prompts' order"
            )
