"""The loss shifts the (already shifted) targets once more: logits[:, :-1] against targets[:, 1:]."""
TARGET = "gpt.py"

_forward = GPT.forward


def forward(self, idx, targets=None):
    logits, _ = _forward(self, idx)
    loss = None
    if targets is not None:
        V = logits.size(-1)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, V), targets[:, 1:].reshape(-1), ignore_index=-100)
    return logits, loss


GPT.forward = forward
