"""The loss shifts the (already shifted) targets once more: logits[:, :-1] against targets[:, 1:]."""
TARGET = "gpt.py"
REPLACE = {
    "loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-100)": "loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.size(-1)), targets[:, 1:].reshape(-1), ignore_index=-100)",
}
