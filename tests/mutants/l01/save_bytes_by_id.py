"""save() writes base token i as the stand-in of byte i: wrong for GPT-2, whose id 0 is "!" (byte 33)."""
TARGET = "bpe.py"
REPLACE = {'            return "".join(stand_in[b] for b in self.vocab[idx])\n': '            return stand_in[idx] if idx < 256 else "".join(stand_in[b] for b in self.vocab[idx])\n'}
