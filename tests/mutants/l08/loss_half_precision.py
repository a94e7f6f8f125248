"""lm_loss sums float16/bfloat16 logits in their own precision instead of float32."""
TARGET = "optim.py"
REPLACE = {"        logits = logits.float()  # the sum over the vocabulary needs more than 8-11 bits of mantissa\n": "        pass\n"}
