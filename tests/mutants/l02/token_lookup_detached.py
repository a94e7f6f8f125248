"""Lookup through weight.data: the values are right but no gradient reaches the table."""
TARGET = "embeddings.py"
REPLACE = {"        return self.weight[ids]\n": "        return self.weight.data[ids]\n"}
