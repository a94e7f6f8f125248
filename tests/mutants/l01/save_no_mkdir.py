"""save() does not create its directory: saving into a new folder fails."""
TARGET = "bpe.py"
REPLACE = {"        directory.mkdir(parents=True, exist_ok=True)\n": ""}
