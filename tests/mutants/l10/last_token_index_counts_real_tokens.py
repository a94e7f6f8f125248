"""last_token_index counts the real tokens (sum - 1): wrong when pad_id also occurs inside the text."""
TARGET = "reward.py"
REPLACE = {"    return real.cumsum(dim=1).argmax(dim=1)\n": "    return real.sum(dim=1) - 1\n"}
