"""KV cache with the wrong position offset: new tokens get position embeddings 0..T_new-1, not length.."""
TARGET = 'kv_cache.py'
REPLACE = {
    '    x = F.embedding(idx, weights.wte) + weights.wpe[start : start + T_new]  # (B, T_new, C)\n': '    x = F.embedding(idx, weights.wte) + weights.wpe[:T_new]  # (B, T_new, C)\n',
}
