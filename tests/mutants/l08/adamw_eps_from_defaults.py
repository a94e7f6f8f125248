"""AdamW reads eps from the optimizer's defaults, not from each parameter group."""
TARGET = "optim.py"
REPLACE = {"                grad = p.grad\n": "                grad = p.grad\n                eps = self.defaults[\"eps\"]\n"}
