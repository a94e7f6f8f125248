"""The learner's own pre-token cache is never emptied: after train() again, old encodings come back."""
TARGET = "bpe.py"
REPLACE = {
    "        ids = self._cache.get(chunk)\n": '        cache = self.__dict__.setdefault("_chunk_ids", {})\n        ids = cache.get(chunk)\n',
    "            if len(self._cache) >= MAX_CACHE_SIZE:\n                self._cache.clear()\n            self._cache[chunk] = ids\n": "            if len(cache) >= MAX_CACHE_SIZE:\n                cache.clear()\n            cache[chunk] = ids\n",
}
