"""No lazy deletion: the trainer merges the top of the heap even when its count is out of date."""
TARGET = "bpe.py"
REPLACE = {"            if count > 0 and key == merge_priority(pair, count):\n": "            if count > 0:  # no check that `key` is the pair's current count\n"}
