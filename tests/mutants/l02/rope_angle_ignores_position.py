"""RoPE angles not multiplied by the position: every token is rotated by the same angles."""
TARGET = "embeddings.py"
REPLACE = {
    "    angles = torch.arange(max_len, dtype=torch.float64).unsqueeze(1) * theta ": "    angles = theta.expand(max_len, head_dim // 2) ",
}
