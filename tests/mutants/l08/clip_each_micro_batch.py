"""Clipping after each micro-batch's backward instead of once, after all of them."""
TARGET = "train.py"
REPLACE = {
    "        total += loss.item()\n    if grad_clip > 0:\n        clip_grad_norm(model.parameters(), grad_clip)\n": "        total += loss.item()\n        if grad_clip > 0:\n            clip_grad_norm(model.parameters(), grad_clip)\n",
}
