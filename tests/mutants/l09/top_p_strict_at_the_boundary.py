"""Top-p drops the tail whose mass is strictly below 1 - p: at an exact boundary it keeps one token too many."""
TARGET = "sampling.py"
REPLACE = {"    drop_sorted = cumulative <= 1 - p\n": "    drop_sorted = cumulative < 1 - p\n"}
