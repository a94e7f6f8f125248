"""The PPO clip on the wrong side: max instead of min, so the clip hides losses and lets gains run."""
TARGET = 'ppo.py'
REPLACE = {
    '    loss = -masked_mean(torch.minimum(unclipped, clipped), action_mask)\n    clip_fraction = masked_mean((clipped < unclipped).float(), action_mask)\n    return loss, clip_fraction\n': '    loss = -masked_mean(torch.maximum(unclipped, clipped), action_mask)\n    return loss, masked_mean((clipped > unclipped).float(), action_mask)\n',
}
