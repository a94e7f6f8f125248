"""Every finished hypothesis is kept, not the num_beams best: a step that finishes two can skip the stopping rule."""
TARGET = "generate.py"
REPLACE = {
    "finished = sorted(finished, key=lambda item: item[0].item(), reverse=True)[:num_beams]": "finished = sorted(finished, key=lambda item: item[0].item(), reverse=True)",
}
