"""The padding mask is applied to the query axis instead of the key axis."""
TARGET = "causal.py"
REPLACE = {
    '    return causal[None, None, :, :] & padding[:, None, None, :]\n':
    '    return causal[None, None, :, :] & padding[:, None, :, None]\n',
}
