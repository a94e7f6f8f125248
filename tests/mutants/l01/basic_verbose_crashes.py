"""BasicTokenizer.train(verbose=True) prints vocab[new_id] before the vocabulary is rebuilt: a KeyError."""
TARGET = "bpe.py"
REPLACE = {'                print(f"merge {new_id - 255}/{vocab_size - 256}: {pair} -> {new_id} had {stats[pair]} occurrences")\n': '                print(f"merge {new_id - 255}/{vocab_size - 256}: {pair} -> {new_id} ({self.vocab[new_id]!r})")\n'}
