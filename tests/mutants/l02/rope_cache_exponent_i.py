"""RoPE frequencies base^(-i / head_dim) instead of base^(-2i / head_dim)."""
TARGET = "embeddings.py"


def rope_cache(head_dim, max_len, base=10000.0):
    if head_dim % 2 != 0:
        raise ValueError(f"head_dim must be even (RoPE rotates pairs), got {head_dim}")
    theta = base ** (-torch.arange(head_dim // 2, dtype=torch.float64) / head_dim)
    angles = torch.arange(max_len, dtype=torch.float64).unsqueeze(1) * theta
    return angles.cos().float(), angles.sin().float()
