"""init_weights leaves the LayerNorms as they are: right after construction only, never on a trained model."""
TARGET = "gpt.py"
REPLACE = {
    "            elif isinstance(module, LayerNorm):\n                nn.init.ones_(module.weight)\n                if module.bias is not None:\n                    nn.init.zeros_(module.bias)\n": "",
}
