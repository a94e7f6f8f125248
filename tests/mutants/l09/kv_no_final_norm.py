"""The cached forward projects the last block's output to logits without ln_f."""
TARGET = 'kv_cache.py'
REPLACE = {
    '    return F.linear(F.layer_norm(x, (C,), weights.ln_f_weight, weights.ln_f_bias, eps), weights.lm_head)\n': '    return F.linear(x, weights.lm_head)\n',
}
