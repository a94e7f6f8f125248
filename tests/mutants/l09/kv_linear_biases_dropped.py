"""The cached forward drops the Linears' biases (they are 0 at GPT-2's init, not in a trained model)."""
TARGET = "kv_cache.py"
REPLACE = {
    "w.attn_weight, w.attn_bias)": "w.attn_weight)",
    "w.attn_proj_weight, w.attn_proj_bias)": "w.attn_proj_weight)",
    "w.fc_weight, w.fc_bias)": "w.fc_weight)",
    "w.mlp_proj_weight, w.mlp_proj_bias)": "w.mlp_proj_weight)",
}
