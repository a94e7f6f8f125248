"""eps inside the square root: sqrt(v_hat + eps) instead of sqrt(v_hat) + eps."""
TARGET = "optim.py"
REPLACE = {"denom = (v.sqrt() / math.sqrt(bias_correction2)).add_(eps)": "denom = (v / bias_correction2 + eps).sqrt()"}
