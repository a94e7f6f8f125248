"""L01: a byte-level BPE tokenizer, GPT-2 style (after Karpathy's minbpe)."""
