"""Only seq_len > max_len rejected: a negative seq_len silently returns weight[:-1], max_len - 1 rows."""
TARGET = "embeddings.py"
REPLACE = {"        if not 0 <= seq_len <= self.max_len:\n": "        if seq_len > self.max_len:\n"}
