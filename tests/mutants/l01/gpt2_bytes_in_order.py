"""Loading GPT-2's files assumes base token i is byte i (GPT-2 gives "!" id 0)."""
TARGET = "bpe.py"

_reference_load = Tokenizer.load.__func__


def load(cls, directory):
    tokenizer = _reference_load(cls, directory)
    tokenizer.byte_to_id = list(range(256))
    tokenizer._build_vocab()
    return tokenizer


Tokenizer.load = classmethod(load)
