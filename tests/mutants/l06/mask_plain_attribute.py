"""The mask is a plain tensor attribute, not a buffer: .to(device) leaves it behind."""
TARGET = "causal.py"
REPLACE = {
    '        self.register_buffer("mask", causal_mask(block_size).view(1, 1, block_size, block_size), persistent=False)\n':
    '        self.mask = causal_mask(block_size).view(1, 1, block_size, block_size)\n',
}
