"""The cache is written but not read: update returns only the new keys and values (no attention to the past)."""
TARGET = "kv_cache.py"


def update(self, layer, k, v):
    end = self.length + k.shape[-2]
    self.data[layer, 0, :, :, self.length : end] = k
    self.data[layer, 1, :, :, self.length : end] = v
    return self.data[layer, 0, :, :, self.length : end], self.data[layer, 1, :, :, self.length : end]


KVCache.update = update
