"""save() does not check for two ids with the same bytes: vocab.json silently keeps only one of them."""
TARGET = "bpe.py"
REPLACE = {'            if token in vocab_json:\n                raise ValueError(f"ids {vocab_json[token]} and {idx} are both {token!r}: GPT-2\'s format needs distinct tokens")\n': ""}
