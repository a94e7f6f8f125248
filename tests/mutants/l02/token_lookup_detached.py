"""Lookup through weight.data: the values are right but no gradient reaches the table."""
TARGET = "embeddings.py"

_checked_forward = TokenEmbedding.forward


def forward(self, ids):
    _checked_forward(self, ids)  # keep the reference's checks
    return self.weight.data[ids]


TokenEmbedding.forward = forward
