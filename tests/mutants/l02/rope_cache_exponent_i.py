"""RoPE frequencies base^(-i / head_dim) instead of base^(-2i / head_dim)."""
TARGET = "embeddings.py"
REPLACE = {
    "    theta = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)":
        "    theta = base ** (-torch.arange(head_dim // 2, dtype=torch.float64) / head_dim)",
}
