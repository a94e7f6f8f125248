"""Stable softmax that forgets all -inf rows: -inf - (-inf) gives NaN for a query that may attend to nothing."""
TARGET = "attention.py"


def softmax(x, dim=-1):
    exps = torch.exp(x - x.amax(dim=dim, keepdim=True))
    return exps / exps.sum(dim=dim, keepdim=True)
