"""No length check: weight[:seq_len] silently returns only max_len rows for a longer sequence."""
TARGET = "embeddings.py"
REPLACE = {
    "        if not 0 <= seq_len <= self.max_len:\n            raise ValueError(\n"
    "                f\"seq_len ({seq_len}) must be between 0 and max_len ({self.max_len}): \"\n"
    "                \"there is no learned vector for later positions\"\n            )\n": "",
}
