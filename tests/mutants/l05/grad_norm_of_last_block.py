"""The measurement ignores `layer` and always reports the last block's gradient."""
TARGET = "norm.py"

_measure = first_layer_grad_norm


def first_layer_grad_norm(block_cls, depth, d_model=64, n_head=4, seq_len=16, batch=4, seed=0, layer=0):
    return _measure(block_cls, depth, d_model, n_head, seq_len, batch, seed, layer=-1)
