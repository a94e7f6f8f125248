"""The final LayerNorm ln_f is skipped before the language-model head."""
TARGET = "gpt.py"
REPLACE = {"logits = self.lm_head(self.transformer.ln_f(x))  # (B, T, vocab)": "logits = self.lm_head(x)  # (B, T, vocab)"}
