"""The cache is written but not read: update returns only the new keys and values (no attention to the past)."""
TARGET = 'kv_cache.py'
REPLACE = {
    '        if end > self.max_len:\n            raise ValueError(f"the cache holds {self.max_len} positions; {self.length} + {k.shape[-2]} do not fit")\n        ### BEGIN SOLUTION\n        keys, values = self.data[layer, 0], self.data[layer, 1]  # views (B, H, max_len, D): no copy\n        keys[:, :, self.length : end] = k\n        values[:, :, self.length : end] = v\n        return keys[:, :, :end], values[:, :, :end]\n': '        self.data[layer, 0, :, :, self.length : end] = k\n        self.data[layer, 1, :, :, self.length : end] = v\n        return self.data[layer, 0, :, :, self.length : end], self.data[layer, 1, :, :, self.length : end]\n',
}
