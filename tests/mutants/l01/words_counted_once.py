"""Pairs counted once per distinct pre-token instead of weighted by the pre-token's frequency."""
TARGET = "bpe.py"


def train(self, text, vocab_size, verbose=False):
    words = set(self.compiled_pattern.findall(text))
    self.merges = train_merges({tuple(text_to_bytes(word)): 1 for word in words}, vocab_size - 256, verbose=verbose)
    self._build_vocab()


RegexTokenizer.train = train
