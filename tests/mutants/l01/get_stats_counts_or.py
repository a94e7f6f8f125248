"""get_stats(ids, counts) with counts = counts or {}: an empty dict passed in is never filled."""
TARGET = "bpe.py"
REPLACE = {"    counts = {} if counts is None else counts\n": "    counts = counts or {}\n"}
