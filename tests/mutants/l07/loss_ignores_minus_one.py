"""The loss ignores -1 (ignore_index=-1) instead of the -100 that marks the targets that do not count."""
TARGET = "gpt.py"
REPLACE = {"targets.reshape(-1), ignore_index=-100)": "targets.reshape(-1), ignore_index=-1)"}
