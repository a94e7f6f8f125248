"""The value clip bounds only upward moves: a value that falls far below the old one is not clipped."""
TARGET = "ppo.py"
REPLACE = {"    clipped = old_values + torch.clamp(values - old_values, -clip_range, clip_range)\n":
           "    clipped = old_values + torch.clamp(values - old_values, max=clip_range)\n"}
