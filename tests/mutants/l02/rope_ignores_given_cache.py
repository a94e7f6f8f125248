"""apply_rope builds its own cache with the default base instead of using the cos and sin it is given."""
TARGET = "embeddings.py"
REPLACE = {
    "    cos, sin = cos[:seq_len].to(x.dtype), sin[:seq_len].to(x.dtype)":
        "    cos, sin = (t.to(x.dtype) for t in rope_cache(x.size(-1), seq_len))",
}
