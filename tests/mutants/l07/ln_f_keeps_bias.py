"""GPT(bias=False) still gives the final LayerNorm ln_f a bias (the config's bias is not passed to it)."""
TARGET = "gpt.py"
REPLACE = {"ln_f=norm_cls(config.n_embd, bias=config.bias),": "ln_f=norm_cls(config.n_embd),"}
