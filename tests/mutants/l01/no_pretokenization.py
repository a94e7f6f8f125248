"""No pre-tokenization: RegexTokenizer.train counts pairs over the whole text, so merges cross word boundaries."""
TARGET = "bpe.py"


def train(self, text, vocab_size, verbose=False):
    self.merges = train_merges({tuple(text_to_bytes(text)): 1}, vocab_size - 256, verbose=verbose)
    self._build_vocab()


RegexTokenizer.train = train
