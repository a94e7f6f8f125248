"""load() numbers merges by line (256 + line) instead of reading the merged token's id from vocab.json."""
TARGET = "bpe.py"
REPLACE = {"                merges[vocab_json[left], vocab_json[right]] = vocab_json[left + right]\n": "                merges[vocab_json[left], vocab_json[right]] = 256 + len(merges)\n"}
