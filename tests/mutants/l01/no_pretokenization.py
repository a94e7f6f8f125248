"""No pre-tokenization: RegexTokenizer.train counts pairs over the whole text, so merges cross word boundaries."""
TARGET = "bpe.py"
REPLACE = {"        word_counts = Counter(self.compiled_pattern.findall(text))\n": "        word_counts = Counter([text])\n"}
