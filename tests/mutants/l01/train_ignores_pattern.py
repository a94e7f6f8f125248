"""RegexTokenizer.train splits with GPT-2's pattern even when the tokenizer was built with another one."""
TARGET = "bpe.py"
REPLACE = {"        word_counts = Counter(self.compiled_pattern.findall(text))\n": "        word_counts = Counter(regex.findall(GPT2_SPLIT_PATTERN, text))\n"}
