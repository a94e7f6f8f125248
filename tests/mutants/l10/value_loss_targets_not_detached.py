"""ppo_value_loss trains its targets: old_values and returns are not detached, so the loss moves them too."""
TARGET = "ppo.py"
REPLACE = {"    old_values, returns = old_values.detach(), returns.detach()\n": ""}
