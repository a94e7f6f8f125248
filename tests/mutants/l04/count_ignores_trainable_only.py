"""count_parameters ignores trainable_only: frozen parameters are counted as trainable."""
TARGET = "multihead.py"


def count_parameters(module, trainable_only=True):
    return sum(p.numel() for p in module.parameters())
