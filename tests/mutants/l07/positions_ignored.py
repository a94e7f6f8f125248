"""Every token gets the embedding of position 0: the position embedding ignores where the token is."""
TARGET = "gpt.py"
REPLACE = {"self.transformer.wte(idx) + self.transformer.wpe(T))": "self.transformer.wte(idx) + self.transformer.wpe.weight[0])"}
