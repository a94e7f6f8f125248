"""The cached forward uses the exact (erf) GELU, not GPT-2's tanh approximation that the model uses."""
TARGET = 'kv_cache.py'
REPLACE = {
    '        h = F.gelu(F.linear(F.layer_norm(x, (C,), w.ln_2_weight, w.ln_2_bias, eps), w.fc_weight, w.fc_bias),\n                   approximate="tanh")  # fmt: skip\n': '        h = F.gelu(F.linear(F.layer_norm(x, (C,), w.ln_2_weight, w.ln_2_bias, eps), w.fc_weight, w.fc_bias))\n',
}
