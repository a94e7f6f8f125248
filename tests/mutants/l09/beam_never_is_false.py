"""Beam search's early_stopping='never' uses the current length in its bound, like False."""
TARGET = 'generate.py'
REPLACE = {
    '                best_n = max_new_tokens if early_stopping == "never" and length_penalty > 0 else n\n': '                best_n = n\n',
}
