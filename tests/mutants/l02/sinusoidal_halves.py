"""Sines in the first half of the columns and cosines in the second (tensor2tensor's layout), not interleaved."""
TARGET = "embeddings.py"
REPLACE = {
    "    pe[:, 0::2] = torch.sin(angles)\n    pe[:, 1::2] = torch.cos(angles)\n":
        "    pe[:, : d_model // 2] = torch.sin(angles)\n    pe[:, d_model // 2 :] = torch.cos(angles)\n",
}
