"""RoPE on (x[..., i], x[..., i + d/2]) pairs (GPT-NeoX's rotate_half) instead of interleaved pairs."""
TARGET = "embeddings.py"


def apply_rope(x, cos, sin):
    seq_len, half = x.size(-2), x.size(-1) // 2
    if seq_len > cos.size(0):
        raise ValueError(f"sequence length {seq_len} is longer than the RoPE cache ({cos.size(0)} positions)")
    cos, sin = cos[:seq_len].to(x.dtype), sin[:seq_len].to(x.dtype)
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)
