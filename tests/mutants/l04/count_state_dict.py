"""Parameters counted from the state dict: buffers counted, tied weights counted twice, frozen ones too."""
TARGET = "multihead.py"
REPLACE = {
    '    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)\n':
    '    return sum(t.numel() for t in module.state_dict().values())\n',
}
