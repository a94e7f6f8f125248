"""BasicTokenizer.encode uses the raw bytes as ids, ignoring byte_to_id (wrong for GPT-2's files, where "!" is 0)."""
TARGET = "bpe.py"
REPLACE = {"        return apply_merges([self.byte_to_id[b] for b in text_to_bytes(text)], self.merges)\n": "        return apply_merges(text_to_bytes(text), self.merges)\n"}
