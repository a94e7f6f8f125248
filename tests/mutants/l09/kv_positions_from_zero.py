"""KV cache with the wrong position offset: new tokens get position embeddings 0..T_new-1, not length.."""
TARGET = "kv_cache.py"


def forward_with_cache(weights: GPTWeights, idx: torch.Tensor, cache: KVCache) -> torch.Tensor:
    T_new = idx.shape[1]
    if idx.shape[0] != cache.batch_size:
        raise ValueError(f"idx has batch size {idx.shape[0]}, the cache {cache.batch_size}")
    if cache.length + T_new > cache.max_len:
        raise ValueError(f"{cache.length} cached + {T_new} new positions exceed the cache's {cache.max_len}")
    start = cache.length
    # The new tokens sit at positions start..start+T_new-1: their position embeddings, not 0..T_new-1.
    x = F.embedding(idx, weights.wte) + weights.wpe[:T_new]  # (B, T_new, C)
    mask = None
    if T_new > 1:  # new query i (position start + i) sees every key up to position start + i
        mask = torch.ones(T_new, start + T_new, dtype=torch.bool, device=idx.device).tril(diagonal=start)
    B, C = idx.shape[0], x.shape[-1]
    H, eps = weights.n_head, weights.eps
    for layer, w in enumerate(weights.layers):
        # c_attn's columns are [q | k | v], each split into heads: (B, T_new, 3, H, D) -> 3 x (B, H, T_new, D).
        qkv = F.linear(F.layer_norm(x, (C,), w.ln_1_weight, w.ln_1_bias, eps), w.attn_weight, w.attn_bias)
        q, k, v = qkv.view(B, T_new, 3, H, C // H).permute(2, 0, 3, 1, 4).unbind(0)
        keys, values = cache.update(layer, k, v)  # (B, H, start + T_new, D)
        y = F.scaled_dot_product_attention(q, keys, values, attn_mask=mask)
        x = x + F.linear(merge_heads(y), w.attn_proj_weight, w.attn_proj_bias)
        h = F.gelu(F.linear(F.layer_norm(x, (C,), w.ln_2_weight, w.ln_2_bias, eps), w.fc_weight, w.fc_bias),
                   approximate="tanh")  # fmt: skip
        x = x + F.linear(h, w.mlp_proj_weight, w.mlp_proj_bias)
    cache.length = start + T_new
    return F.linear(F.layer_norm(x, (C,), weights.ln_f_weight, weights.ln_f_bias, eps), weights.lm_head)
