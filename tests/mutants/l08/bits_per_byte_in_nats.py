"""bits_per_byte forgets the division by ln 2: nats per byte."""
TARGET = "train.py"


def bits_per_byte(mean_loss_nats_per_token, n_tokens, n_bytes):
    return mean_loss_nats_per_token * n_tokens / n_bytes
