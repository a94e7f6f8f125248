"""Beam search's length penalty divides by the whole length, prompt included, not the generated tokens."""
TARGET = 'generate.py'
REPLACE = {
    '                        finished.append((score / n**length_penalty, sequence))\n': '                        finished.append((score / (n + idx.shape[1]) ** length_penalty, sequence))\n',
}
