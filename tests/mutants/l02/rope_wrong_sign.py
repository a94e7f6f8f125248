"""RoPE rotating by -angle: the signs of the sin terms swapped."""
TARGET = "embeddings.py"
REPLACE = {
    "torch.stack((x_even * cos - x_odd * sin, x_even * sin + x_odd * cos), dim=-1)":
        "torch.stack((x_even * cos + x_odd * sin, -x_even * sin + x_odd * cos), dim=-1)",
}
