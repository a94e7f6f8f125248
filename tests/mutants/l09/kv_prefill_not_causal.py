"""KV cache prefill without the causal mask: the prompt's tokens attend to later prompt tokens."""
TARGET = 'kv_cache.py'
REPLACE = {
    '        y = F.scaled_dot_product_attention(q, keys, values, attn_mask=mask)\n': '        y = F.scaled_dot_product_attention(q, keys, values)\n',
}
