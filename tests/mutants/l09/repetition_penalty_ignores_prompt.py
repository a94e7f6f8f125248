"""The repetition penalty looks only at generated tokens, not at the prompt (transformers counts both)."""
TARGET = 'generate.py'
REPLACE = {
    'logits = apply_repetition_penalty(logits, ids[:, :length], repetition_penalty)': 'logits = apply_repetition_penalty(logits, ids[:, T:length], repetition_penalty)',
}
