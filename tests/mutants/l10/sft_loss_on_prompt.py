"""SFT loss on prompt tokens too: every next token is a target, the user's words included."""
TARGET = 'sft.py'
REPLACE = {
    '    if len(ids) != len(assistant_mask):\n        raise ValueError(f"ids ({len(ids)}) and assistant_mask ({len(assistant_mask)}) must have the same length")\n    if len(ids) < 2:\n        raise ValueError(f"a training example needs at least 2 tokens, got {len(ids)}")\n    ### BEGIN SOLUTION\n    x = ids[:-1]\n    y = [idx if is_assistant else IGNORE_INDEX for idx, is_assistant in zip(ids[1:], assistant_mask[1:])]\n    return x[:block_size], y[:block_size]\n': '    return ids[:-1][:block_size], ids[1:][:block_size]\n',
}
