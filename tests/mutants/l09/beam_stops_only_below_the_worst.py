"""early_stopping=False goes on while the best live beam TIES the worst finished hypothesis (< instead of <=)."""
TARGET = "generate.py"
REPLACE = {
    "if beam_scores[0] / best_n**length_penalty <= finished[-1][0]:": "if beam_scores[0] / best_n**length_penalty < finished[-1][0]:",
}
