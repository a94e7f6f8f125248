"""train_step zeroes the gradients in place (set_to_none=False) instead of setting them to None."""
TARGET = "train.py"
REPLACE = {"    optimizer.zero_grad(set_to_none=True)\n    return total": "    optimizer.zero_grad(set_to_none=False)\n    return total"}
