"""token_logprobs runs the model on all of ids and drops the last logits: fails on a full window (block_size + 1 ids)."""
TARGET = "logprobs.py"
REPLACE = {
    "    logits, _ = model(ids[:, :-1])\n    logprobs = F.log_softmax(logits, dim=-1)  # (B, T - 1, vocab)\n":
    "    logits, _ = model(ids)\n    logprobs = F.log_softmax(logits[:, :-1], dim=-1)  # (B, T - 1, vocab)\n",
}
