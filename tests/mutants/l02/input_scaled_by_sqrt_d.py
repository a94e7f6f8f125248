"""Token embeddings multiplied by sqrt(d_model), as the original Transformer does (GPT-2 does not)."""
TARGET = "embeddings.py"
REPLACE = {"        return self.tok(ids) + pos  #": "        return self.tok(ids) * self.tok.d_model ** 0.5 + pos  #"}
