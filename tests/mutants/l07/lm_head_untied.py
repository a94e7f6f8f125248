"""The language-model head is not tied to the token embedding (a separate vocab x C matrix)."""
TARGET = "gpt.py"
REPLACE = {"        self.lm_head.weight = self.transformer.wte.weight\n": ""}
