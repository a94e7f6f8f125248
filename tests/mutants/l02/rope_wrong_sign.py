"""RoPE rotating by -angle: the signs of the sin terms swapped."""
TARGET = "embeddings.py"


def apply_rope(x, cos, sin):
    seq_len = x.size(-2)
    if seq_len > cos.size(0):
        raise ValueError(f"sequence length {seq_len} is longer than the RoPE cache ({cos.size(0)} positions)")
    cos, sin = cos[:seq_len].to(x.dtype), sin[:seq_len].to(x.dtype)
    x_even, x_odd = x[..., 0::2], x[..., 1::2]
    return torch.stack((x_even * cos + x_odd * sin, -x_even * sin + x_odd * cos), dim=-1).flatten(-2)
