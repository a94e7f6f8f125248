"""No check for an odd d_model: the cos columns do not fit and the learner gets a shape error."""
TARGET = "embeddings.py"
REPLACE = {
    "    if d_model % 2 != 0:\n        raise ValueError(f\"d_model must be even (sin/cos pairs), got {d_model}\")\n": "",
}
