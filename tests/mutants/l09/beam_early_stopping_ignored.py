"""Beam search ignores early_stopping=True: it goes on like early_stopping=False."""
TARGET = 'generate.py'
REPLACE = {
    '                if early_stopping is True:\n                    break\n': '',
}
