"""RoPE angles not multiplied by the position: every token is rotated by the same angles."""
TARGET = "embeddings.py"


def rope_cache(head_dim, max_len, base=10000.0):
    if head_dim % 2 != 0:
        raise ValueError(f"head_dim must be even (RoPE rotates pairs), got {head_dim}")
    theta = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)
    angles = theta.expand(max_len, head_dim // 2)
    return angles.cos().float(), angles.sin().float()
