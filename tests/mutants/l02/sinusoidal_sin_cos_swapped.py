"""cos in the even columns and sin in the odd ones."""
TARGET = "embeddings.py"
REPLACE = {
    "    pe[:, 0::2] = torch.sin(angles)\n    pe[:, 1::2] = torch.cos(angles)\n":
        "    pe[:, 0::2] = torch.cos(angles)\n    pe[:, 1::2] = torch.sin(angles)\n",
}
