"""The value loss without its clip: (V - R)^2 only."""
TARGET = "ppo.py"


def ppo_value_loss(values, old_values, returns, action_mask, clip_range=0.2):
    return 0.5 * masked_mean((values - returns.detach()) ** 2, action_mask)
