"""The residual projections (c_proj) get std 0.02 like every other weight, not 0.02 / sqrt(2 * n_layer)."""
TARGET = "gpt.py"
REPLACE = {"residual_std = 0.02 / math.sqrt(2 * self.config.n_layer)": "residual_std = 0.02"}
