"""Masks combined with OR: a key is visible if it is in the past OR real."""
TARGET = "causal.py"
REPLACE = {
    '    return causal[None, None, :, :] & padding[:, None, None, :]\n':
    '    return causal[None, None, :, :] | padding[:, None, None, :]\n',
}
