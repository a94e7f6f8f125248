"""PPO without the clip: the plain policy-gradient surrogate, which lets one batch move the policy too far."""
TARGET = "ppo.py"


def ppo_policy_loss(logprobs, old_logprobs, advantages, action_mask, clip_range=0.2):
    ratio = torch.exp(logprobs - old_logprobs.detach())
    return -masked_mean(ratio * advantages, action_mask), torch.zeros(())
