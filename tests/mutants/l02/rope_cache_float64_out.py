"""The RoPE cache returned in float64 (the dtype of its angles) instead of the default dtype float32."""
TARGET = "embeddings.py"
REPLACE = {"    return angles.cos().to(dtype), angles.sin().to(dtype)\n": "    return angles.cos(), angles.sin()\n"}
