"""num_parameters leaves out the token embeddings (wte) instead of the position embeddings (wpe)."""
TARGET = "gpt.py"


def num_parameters(self, non_embedding=True):
    total = sum(p.numel() for p in self.parameters())
    return total - self.transformer.wte.weight.numel() if non_embedding else total


GPT.num_parameters = num_parameters
