"""Range check done on uint8 ids as they are: ids >= 256 compares with 256 wrapped to 0, so every uint8 id is "out of range" for vocab_size 256."""
TARGET = "embeddings.py"
REPLACE = {
    "        ids = ids.long()\n": "",
    "        return self.weight[ids]\n": "        return self.weight[ids.long()]\n",
}
