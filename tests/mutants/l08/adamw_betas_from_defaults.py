"""AdamW reads betas from the optimizer's defaults, not from each parameter group."""
TARGET = "optim.py"
REPLACE = {"                grad = p.grad\n": "                grad = p.grad\n                beta1, beta2 = self.defaults[\"betas\"]\n"}
