"""The residual projections (c_proj) get std 0.02 like every other weight, not 0.02 / sqrt(2 * n_layer)."""
TARGET = "gpt.py"


def init_weights(self):
    for module in self.modules():
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, (TokenEmbedding, LearnedPositionalEmbedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)


GPT.init_weights = init_weights
