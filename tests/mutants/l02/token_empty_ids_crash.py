"""Range check without an emptiness guard: ids with no elements (T = 0) crash in ids.min() instead of giving (..., 0, d_model)."""
TARGET = "embeddings.py"
REPLACE = {"        if ids.numel() > 0 and (ids.min() < 0 or ids.max() >= self.vocab_size):\n": "        if ids.min() < 0 or ids.max() >= self.vocab_size:\n"}
