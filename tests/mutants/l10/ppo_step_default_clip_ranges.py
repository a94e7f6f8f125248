"""ppo_step accepts clip_range and value_clip_range but the losses run with their defaults (0.2)."""
TARGET = "ppo.py"
REPLACE = {
    'batch["advantages"], mask, clip_range)\n': 'batch["advantages"], mask)\n',
    'batch["returns"], mask, value_clip_range)\n': 'batch["returns"], mask)\n',
}
