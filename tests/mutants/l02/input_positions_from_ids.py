"""Position vectors looked up by token id instead of by position."""
TARGET = "embeddings.py"
REPLACE = {
    "        pos = self.pos(seq_len) if self.positional == \"learned\" else self.pos[:seq_len]\n":
        "        pos = self.pos.weight[ids] if self.positional == \"learned\" else self.pos[ids]\n",
}
