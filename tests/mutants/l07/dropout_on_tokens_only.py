"""The embedding dropout acts on the token embeddings only: drop(wte(idx)) + wpe(T), not drop(wte(idx) + wpe(T))."""
TARGET = "gpt.py"
REPLACE = {
    "x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(T))": "x = self.transformer.drop(self.transformer.wte(idx)) + self.transformer.wpe(T)",
}
