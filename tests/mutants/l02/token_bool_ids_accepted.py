"""Only float ids rejected: a bool tensor passes as ids and weight[mask] selects rows by mask instead of raising ValueError."""
TARGET = "embeddings.py"
REPLACE = {"        if ids.is_floating_point() or ids.is_complex() or ids.dtype == torch.bool:\n": "        if ids.is_floating_point():\n"}
