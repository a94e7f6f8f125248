"""The value loss without its clip: (V - R)^2 only."""
TARGET = 'ppo.py'
REPLACE = {
    '    old_values, returns = old_values.detach(), returns.detach()\n    clipped = old_values + torch.clamp(values - old_values, -clip_range, clip_range)\n    losses = torch.maximum((values - returns) ** 2, (clipped - returns) ** 2)\n    return 0.5 * masked_mean(losses, action_mask)\n': '    return 0.5 * masked_mean((values - returns.detach()) ** 2, action_mask)\n',
}
