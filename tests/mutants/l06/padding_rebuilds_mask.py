"""With a padding mask forward builds a fresh causal mask (causal_mask_like) instead of the cached buffer's corner."""
TARGET = "causal.py"
REPLACE = {
    '            mask = combine_masks(mask[0, 0], padding_mask)\n':
    '            mask = combine_masks(causal_mask_like(x), padding_mask)\n',
}
