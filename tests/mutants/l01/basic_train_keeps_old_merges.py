"""BasicTokenizer.train does not start from empty merges: a second train() keeps the first text's merges."""
TARGET = "bpe.py"
REPLACE = {"        ids = text_to_bytes(text)\n        self.merges = {}\n": "        ids = text_to_bytes(text)\n"}
