"""No check of T against max_len in InputEmbedding: a sinusoidal table too short fails with a broadcast error."""
TARGET = "embeddings.py"
REPLACE = {
    "        if seq_len > self.max_len:\n            raise ValueError(f\"sequence length {seq_len} is longer than the context: max_len is {self.max_len}\")\n": "",
}
