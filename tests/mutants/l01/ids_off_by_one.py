"""Vocabulary ids off by one at 256: the first merge gets id 257."""
TARGET = "bpe.py"


def train(self, text, vocab_size, verbose=False):
    ids = text_to_bytes(text)
    self.merges = {}
    for new_id in range(257, vocab_size + 1):
        stats = get_stats(ids)
        if not stats:
            break
        pair = most_frequent_pair(stats)
        ids = merge(ids, pair, new_id)
        self.merges[pair] = new_id
    self._build_vocab()


BasicTokenizer.train = train
