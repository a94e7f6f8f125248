"""PPO without the clip: the plain policy-gradient surrogate, which lets one batch move the policy too far."""
TARGET = 'ppo.py'
REPLACE = {
    '    advantages = advantages.detach()\n    unclipped = ratio * advantages\n    clipped = torch.clamp(ratio, 1.0 - clip_range, 1.0 + clip_range) * advantages\n    loss = -masked_mean(torch.minimum(unclipped, clipped), action_mask)\n    clip_fraction = masked_mean((clipped < unclipped).float(), action_mask)\n    return loss, clip_fraction\n': '    return -masked_mean(ratio * advantages, action_mask), torch.zeros(())\n',
}
