"""split_heads does not check that n_head divides C: the learner gets a cryptic view error."""
TARGET = "multihead.py"


def split_heads(x, n_head):
    B, T, C = x.shape
    return x.view(B, T, n_head, C // n_head).transpose(1, 2)
