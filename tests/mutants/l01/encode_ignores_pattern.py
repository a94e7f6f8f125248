"""encode_ordinary splits with GPT-2's pattern even when the tokenizer was built with another one."""
TARGET = "bpe.py"
REPLACE = {"        for chunk in self.compiled_pattern.findall(text):\n": "        for chunk in regex.findall(GPT2_SPLIT_PATTERN, text):\n"}
