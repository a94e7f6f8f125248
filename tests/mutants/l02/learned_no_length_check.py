"""No length check: weight[:seq_len] silently returns only max_len rows for a longer sequence."""
TARGET = "embeddings.py"


def forward(self, seq_len):
    return self.weight[:seq_len]


LearnedPositionalEmbedding.forward = forward
