"""No check of T against max_len in InputEmbedding: a sinusoidal table too short fails with a broadcast error."""
TARGET = "embeddings.py"


def forward(self, ids):
    seq_len = ids.size(-1)
    pos = self.pos(seq_len) if self.positional == "learned" else self.pos[:seq_len]
    return self.tok(ids) + pos


InputEmbedding.forward = forward
