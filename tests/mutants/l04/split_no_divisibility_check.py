"""split_heads does not check that n_head divides C: the learner gets a cryptic view error."""
TARGET = "multihead.py"
REPLACE = {
    "    if C % n_head != 0:\n"
    "        raise ValueError(f\"the channel dim ({C}) must be divisible by n_head ({n_head})\")\n": "",
}
