"""The RoPE cache is not cut to the sequence length: works only when max_len == T."""
TARGET = "embeddings.py"
REPLACE = {
    "    if seq_len > cos.size(0):\n"
    "        raise ValueError(f\"sequence length {seq_len} is longer than the RoPE cache ({cos.size(0)} positions)\")\n": "",
    "    cos, sin = cos[:seq_len].to(x.dtype), sin[:seq_len].to(x.dtype)": "    cos, sin = cos.to(x.dtype), sin.to(x.dtype)",
}
