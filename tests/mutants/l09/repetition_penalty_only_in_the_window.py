"""The repetition penalty covers only the last block_size tokens (the model's window), not the whole history."""
TARGET = "generate.py"
REPLACE = {"logits = apply_repetition_penalty(logits, ids[:, :length], repetition_penalty)":
           "logits = apply_repetition_penalty(logits, ids[:, max(0, length - block_size) : length], repetition_penalty)"}
