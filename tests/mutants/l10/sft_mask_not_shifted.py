"""The assistant mask read at the input position instead of the target's: off by one at each turn's edges."""
TARGET = "sft.py"


def sft_example(ids, assistant_mask, block_size):
    y = [idx if is_assistant else IGNORE_INDEX for idx, is_assistant in zip(ids[1:], assistant_mask[:-1])]
    return ids[:-1][:block_size], y[:block_size]
