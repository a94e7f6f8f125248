"""Beam search adds probabilities instead of log-probabilities: a beam's score is a sum of softmax values."""
TARGET = "generate.py"
REPLACE = {"            scores = (F.log_softmax(logits.float(), dim=-1) + beam_scores[:, None]).view(-1)\n":
           "            scores = (F.softmax(logits.float(), dim=-1) + beam_scores[:, None]).view(-1)\n"}
