"""KV cache prefill without the causal mask: the prompt's tokens attend to later prompt tokens."""
TARGET = "kv_cache.py"


def forward_with_cache(model: nn.Module, idx: torch.Tensor, cache: KVCache) -> torch.Tensor:
    T_new = idx.shape[1]
    if idx.shape[0] != cache.batch_size:
        raise ValueError(f"idx has batch size {idx.shape[0]}, the cache {cache.batch_size}")
    if cache.length + T_new > cache.max_len:
        raise ValueError(f"{cache.length} cached + {T_new} new positions exceed the cache's {cache.max_len}")
    start = cache.length
    transformer = model.transformer
    # The new tokens sit at positions start..start+T_new-1: their position embeddings, not 0..T_new-1.
    # F.embedding on wte's table: the module's own range check costs two host syncs per token.
    x = F.embedding(idx, transformer.wte.weight) + transformer.wpe.weight[start : start + T_new]  # (B, T_new, C)
    mask = None
    if T_new > 1:  # new query i (position start + i) sees every key up to position start + i
        mask = torch.ones(T_new, start + T_new, dtype=torch.bool, device=idx.device).tril(diagonal=start)
    B, C = idx.shape[0], x.shape[-1]
    for layer, block in enumerate(transformer.h):
        attn = block.attn
        # c_attn's columns are [q | k | v], each split into heads: (B, T_new, 3, H, D) -> 3 x (B, H, T_new, D).
        qkv = attn.c_attn(block.ln_1(x)).view(B, T_new, 3, attn.n_head, C // attn.n_head)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        keys, values = cache.update(layer, k, v)  # (B, H, start + T_new, D)
        y = F.scaled_dot_product_attention(q, keys, values)
        x = x + attn.c_proj(merge_heads(y))
        x = x + block.mlp(block.ln_2(x))
    cache.length = start + T_new
    return model.lm_head(transformer.ln_f(x))
