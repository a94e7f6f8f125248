"""The embedding dropout (transformer.drop) is never applied."""
TARGET = "gpt.py"
REPLACE = {"x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(T))": "x = self.transformer.wte(idx) + self.transformer.wpe(T)"}
