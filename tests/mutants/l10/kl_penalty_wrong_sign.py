"""KL penalty with the wrong sign: moving away from the reference is rewarded instead of penalised."""
TARGET = "ppo.py"


def kl_penalized_rewards(scores, logprobs, reference_logprobs, action_mask, kl_coef):
    rewards = kl_coef * (logprobs - reference_logprobs) * action_mask
    positions = torch.arange(action_mask.shape[1])
    last = torch.where(action_mask, positions, -1).max(dim=1).values
    rewards[torch.arange(len(scores)), last] += scores
    return rewards
