"""Softmax without subtracting the max: exp(1000) overflows to inf and inf / inf is NaN."""
TARGET = "attention.py"


def softmax(x, dim=-1):
    exps = torch.exp(x)
    return exps / exps.sum(dim=dim, keepdim=True)
