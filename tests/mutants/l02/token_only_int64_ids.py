"""Only int64 ids accepted: int32 (or uint8, int16) token ids, valid integers, raise ValueError."""
TARGET = "embeddings.py"
REPLACE = {"        if ids.is_floating_point() or ids.is_complex() or ids.dtype == torch.bool:\n": "        if ids.dtype != torch.long:\n"}
