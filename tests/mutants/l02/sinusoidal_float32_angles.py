"""Angles computed in float32 (the Annotated Transformer's exp/log form): p * w_i is off by ~1e-3 once p is in the thousands."""
TARGET = "embeddings.py"
REPLACE = {
    "    position = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)": "    position = torch.arange(max_len, dtype=torch.float32).unsqueeze(1)",
    "    inv_freq = 10000.0 ** (-torch.arange(0, d_model, 2, dtype=torch.float64) / d_model)":
        "    inv_freq = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))",
    "import torch\n": "import math\n\nimport torch\n",
}
