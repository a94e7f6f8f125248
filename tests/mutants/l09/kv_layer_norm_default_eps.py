"""The cached forward leaves out weights.eps: every F.layer_norm uses its default 1e-5, not the model's epsilon."""
TARGET = "kv_cache.py"
REPLACE = {
    "w.ln_1_weight, w.ln_1_bias, eps)": "w.ln_1_weight, w.ln_1_bias)",
    "w.ln_2_weight, w.ln_2_bias, eps)": "w.ln_2_weight, w.ln_2_bias)",
    "weights.ln_f_weight, weights.ln_f_bias, eps)": "weights.ln_f_weight, weights.ln_f_bias)",
}
