"""SFT loss on prompt tokens too: every next token is a target, the user's words included."""
TARGET = "sft.py"


def sft_example(ids, assistant_mask, block_size):
    return ids[:-1][:block_size], ids[1:][:block_size]
