"""The PPO clip on the wrong side: max instead of min, so the clip hides losses and lets gains run."""
TARGET = "ppo.py"


def ppo_policy_loss(logprobs, old_logprobs, advantages, action_mask, clip_range=0.2):
    ratio = torch.exp(logprobs - old_logprobs.detach())
    unclipped = ratio * advantages
    clipped = torch.clamp(ratio, 1.0 - clip_range, 1.0 + clip_range) * advantages
    loss = -masked_mean(torch.maximum(unclipped, clipped), action_mask)
    return loss, masked_mean((clipped > unclipped).float(), action_mask)
