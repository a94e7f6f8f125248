"""Pairs counted once per distinct pre-token instead of weighted by the pre-token's frequency."""
TARGET = "bpe.py"
REPLACE = {"        word_counts = Counter(self.compiled_pattern.findall(text))\n": "        word_counts = Counter(set(self.compiled_pattern.findall(text)))\n"}
