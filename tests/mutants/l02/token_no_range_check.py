"""No range check on token ids: weight[-1] silently returns the last row, weight[V] a cryptic IndexError."""
TARGET = "embeddings.py"
REPLACE = {
    "        if ids.numel() > 0 and (ids.min() < 0 or ids.max() >= self.vocab_size):\n"
    "            raise ValueError(\n"
    "                f\"token ids must be in [0, {self.vocab_size}), got values from {ids.min().item()} to {ids.max().item()}\"\n"
    "            )\n": "",
}
