"""Accumulation without dividing each micro-batch's loss by k: k micro-batches give k times the gradient."""
TARGET = "train.py"
REPLACE = {
    "        loss = lm_loss(logits, y) / k  # the mean over the big batch = the sum of the parts' means / k\n        loss.backward()  # gradients accumulate in .grad across the micro-batches\n        total += loss.item()\n": "        loss = lm_loss(logits, y)\n        loss.backward()\n        total += loss.item() / k\n",
}
