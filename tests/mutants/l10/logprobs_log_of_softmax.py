"""token_logprobs as log(softmax(.)): an unlikely token under large logits gets -inf instead of its log-probability."""
TARGET = "logprobs.py"
REPLACE = {"    logprobs = F.log_softmax(logits, dim=-1)  # (B, T - 1, vocab)\n": "    logprobs = torch.log(F.softmax(logits, dim=-1))\n"}
