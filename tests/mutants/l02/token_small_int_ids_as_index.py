"""Small integer ids used as they are: PyTorch reads a uint8 index as a mask, int16 cannot index, and uint8 ids >= 256 wraps 256 to 0."""
TARGET = "embeddings.py"
REPLACE = {"        ids = ids.long()\n": ""}
