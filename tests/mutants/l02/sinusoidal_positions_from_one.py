"""Positions counted from 1: the first token gets the encoding of position 1."""
TARGET = "embeddings.py"
REPLACE = {
    "    position = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)":
        "    position = torch.arange(1, max_len + 1, dtype=torch.float64).unsqueeze(1)",
}
