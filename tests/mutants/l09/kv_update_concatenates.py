"""The cache grows with torch.cat into a new tensor every step instead of writing into the pre-allocated one."""
TARGET = 'kv_cache.py'
REPLACE = {
    '        if end > self.max_len:\n            raise ValueError(f"the cache holds {self.max_len} positions; {self.length} + {k.shape[-2]} do not fit")\n        ### BEGIN SOLUTION\n        keys, values = self.data[layer, 0], self.data[layer, 1]  # views (B, H, max_len, D): no copy\n        keys[:, :, self.length : end] = k\n        values[:, :, self.length : end] = v\n        return keys[:, :, :end], values[:, :, :end]\n': '        keys = torch.cat([self.data[layer, 0, :, :, : self.length], k], dim=2)\n        values = torch.cat([self.data[layer, 1, :, :, : self.length], v], dim=2)\n        data = self.data.clone()\n        data[layer, 0, :, :, :end] = keys\n        data[layer, 1, :, :, :end] = values\n        self.data = data\n        return keys, values\n',
}
