"""Beam search ranks finished sequences by their summed log-probability, ignoring length_penalty."""
TARGET = 'generate.py'
REPLACE = {
    '                        finished.append((score / n**length_penalty, sequence))\n': '                        finished.append((score, sequence))\n',
}
