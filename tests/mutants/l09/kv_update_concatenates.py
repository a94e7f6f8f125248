"""The cache grows with torch.cat into a new tensor every step instead of writing into the pre-allocated one."""
TARGET = "kv_cache.py"


def update(self, layer, k, v):
    end = self.length + k.shape[-2]
    keys = torch.cat([self.data[layer, 0, :, :, : self.length], k], dim=2)
    values = torch.cat([self.data[layer, 1, :, :, : self.length], v], dim=2)
    data = self.data.clone()
    data[layer, 0, :, :, :end] = keys
    data[layer, 1, :, :, :end] = values
    self.data = data
    return keys, values


KVCache.update = update
