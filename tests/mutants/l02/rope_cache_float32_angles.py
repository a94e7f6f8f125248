"""RoPE angles in float32 (LLaMA's precompute_freqs_cis): m * theta_i is off by ~1e-3 at positions in the thousands."""
TARGET = "embeddings.py"
REPLACE = {
    "    theta = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim)":
        "    theta = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))",
    "    angles = torch.arange(max_len, dtype=torch.float64).unsqueeze(1) * theta": "    angles = torch.outer(torch.arange(max_len, dtype=torch.float32), theta)",
}
