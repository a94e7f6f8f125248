"""Returns the raw scores instead of the softmax weights for plotting."""
TARGET = "attention.py"
REPLACE = {
    '    return weights @ v, weights\n':
    '    return weights @ v, scores\n',
}
