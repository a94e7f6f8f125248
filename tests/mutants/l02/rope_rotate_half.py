"""RoPE on (x[..., i], x[..., i + d/2]) pairs (GPT-NeoX's rotate_half) instead of interleaved pairs."""
TARGET = "embeddings.py"
REPLACE = {
    "    x_even, x_odd = x[..., 0::2], x[..., 1::2]\n": "    x_even, x_odd = x[..., : x.size(-1) // 2], x[..., x.size(-1) // 2 :]\n",
    "    return rotated.flatten(-2)  #": "    return torch.cat(rotated.unbind(-1), dim=-1)  #",
}
