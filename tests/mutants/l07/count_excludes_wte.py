"""num_parameters leaves out the token embeddings (wte) instead of the position embeddings (wpe)."""
TARGET = "gpt.py"
REPLACE = {"return total - self.transformer.wpe.weight.numel() if non_embedding else total": "return total - self.transformer.wte.weight.numel() if non_embedding else total"}
