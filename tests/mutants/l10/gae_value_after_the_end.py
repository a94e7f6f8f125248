"""GAE bootstraps from the value of the padding after the reply: the episode never ends."""
TARGET = "ppo.py"


def gae(rewards, values, action_mask, gamma=1.0, lam=0.95):
    mask = action_mask.to(values.dtype)
    advantages = torch.zeros_like(rewards)
    next_value = torch.zeros(rewards.shape[0])
    next_advantage = torch.zeros(rewards.shape[0])
    for t in reversed(range(rewards.shape[1])):
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        advantages[:, t] = (delta + gamma * lam * next_advantage) * mask[:, t]
        next_value = values[:, t]
        next_advantage = advantages[:, t]
    return advantages, (advantages + values) * mask
