"""apply_rope does not cast the cache to x's dtype: bfloat16 or float16 queries come back as float32."""
TARGET = "embeddings.py"
REPLACE = {"    cos, sin = cos[:seq_len].to(x.dtype), sin[:seq_len].to(x.dtype)": "    cos, sin = cos[:seq_len], sin[:seq_len]"}
