"""count_parameters ignores trainable_only: frozen parameters are counted as trainable."""
TARGET = "multihead.py"
REPLACE = {
    '    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)\n':
    '    return sum(p.numel() for p in module.parameters())\n',
}
