"""lm_loss makes ignored targets safe with clamp(min=0): an ignore_index past the vocabulary is then gathered out of range."""
TARGET = "optim.py"
REPLACE = {"safe = targets.masked_fill(~counted, 0)": "safe = targets.clamp(min=0)"}
