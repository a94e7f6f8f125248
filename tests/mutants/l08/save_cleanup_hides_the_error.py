"""A failed save's cleanup raises FileNotFoundError when the temporary file is already gone, hiding the real error."""
TARGET = "train.py"
REPLACE = {"        partial.unlink(missing_ok=True)\n": "        partial.unlink()\n"}
