"""Special tokens ignored: allowed special tokens are split by the regex like ordinary text."""
TARGET = "bpe.py"
REPLACE = {"        if not allowed:\n            return self.encode_ordinary(text)\n": "        return self.encode_ordinary(text)\n"}
