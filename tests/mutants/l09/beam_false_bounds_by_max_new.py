"""early_stopping=False bounds a live beam by max_new_tokens ** length_penalty, as "never" does, not by its length n."""
TARGET = "generate.py"
REPLACE = {
    'best_n = max_new_tokens if early_stopping == "never" and length_penalty > 0 else n': "best_n = max_new_tokens if length_penalty > 0 else n",
}
