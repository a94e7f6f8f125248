"""An epsilon added to the softmax denominator "for safety": rows sum to 1 - 1e-6, and each weight is off by that much."""
TARGET = "attention.py"
REPLACE = {
    "    return exps / torch.where(total == 0, torch.ones_like(total), total)\n":
    "    return exps / (total + 1e-6)\n",
}
