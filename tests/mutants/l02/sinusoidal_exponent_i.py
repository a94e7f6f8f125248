"""Frequency exponent i / d_model instead of 2i / d_model (pair index used where the column index belongs)."""
TARGET = "embeddings.py"
REPLACE = {
    "    inv_freq = 10000.0 ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)":
        "    inv_freq = 10000.0 ** (-torch.arange(d_model // 2, dtype=torch.float64) / d_model)",
}
