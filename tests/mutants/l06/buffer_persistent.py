"""The mask buffer is persistent: it lands in the state dict (checkpoints no longer match GPT-2's)."""
TARGET = "causal.py"
REPLACE = {
    'block_size, block_size), persistent=False)\n':
    'block_size, block_size))\n',
}
