"""RegexTokenizer.train adds to the merges it had: a second train() keeps the first text's merges."""
TARGET = "bpe.py"
REPLACE = {"        self.merges = train_merges(byte_counts, vocab_size - 256, verbose=verbose)\n": "        self.merges.update(train_merges(byte_counts, vocab_size - 256, verbose=verbose))\n"}
