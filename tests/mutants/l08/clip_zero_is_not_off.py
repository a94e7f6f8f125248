"""train_step clips when grad_clip is 0 (grad_clip >= 0): "0 turns clipping off" becomes "every gradient is zeroed"."""
TARGET = "train.py"
REPLACE = {"    if grad_clip > 0:\n        clip_grad_norm(model.parameters(), grad_clip)": "    if grad_clip >= 0:\n        clip_grad_norm(model.parameters(), grad_clip)"}
