"""Position vectors detached in InputEmbedding: the values are right but the learned position table never learns."""
TARGET = "embeddings.py"
REPLACE = {"        return self.tok(ids) + pos  #": "        return self.tok(ids) + pos.detach()  #"}
