"""zero_grad before every micro-batch: only the last micro-batch's gradient is left for the step."""
TARGET = "train.py"
REPLACE = {"    for x, y in micro_batches:\n        logits, _ = model(x)\n": "    for x, y in micro_batches:\n        optimizer.zero_grad(set_to_none=True)\n        logits, _ = model(x)\n"}
