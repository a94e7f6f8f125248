"""init_weights re-draws the token embeddings but not the position embeddings wpe."""
TARGET = "gpt.py"
REPLACE = {"elif isinstance(module, (TokenEmbedding, LearnedPositionalEmbedding)):": "elif isinstance(module, TokenEmbedding):"}
