"""Token embeddings multiplied by sqrt(d_model), as the original Transformer does (GPT-2 does not)."""
TARGET = "embeddings.py"


def forward(self, ids):
    seq_len = ids.size(-1)
    if seq_len > self.max_len:
        raise ValueError(f"sequence length {seq_len} is longer than the context: max_len is {self.max_len}")
    pos = self.pos(seq_len) if self.positional == "learned" else self.pos[:seq_len]
    return self.tok(ids) * self.tok.d_model ** 0.5 + pos


InputEmbedding.forward = forward
