"""clip_fraction counts every ratio outside [1 - eps, 1 + eps], also those whose unclipped term is the smaller one."""
TARGET = "ppo.py"
REPLACE = {"    clip_fraction = masked_mean((clipped < unclipped).float(), action_mask)\n":
           "    clip_fraction = masked_mean(((ratio - 1).abs() > clip_range).float(), action_mask)\n"}
