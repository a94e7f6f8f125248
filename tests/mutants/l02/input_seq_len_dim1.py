"""T read as ids.size(1): 1-D ids (T,) crash and 3-D ids (A, B, T) get B positions, not T."""
TARGET = "embeddings.py"
REPLACE = {"        seq_len = ids.size(-1)\n": "        seq_len = ids.size(1)\n"}
