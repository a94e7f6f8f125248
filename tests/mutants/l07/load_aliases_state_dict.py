"""load_hf_state_dict makes the parameters share the state dict's storage (.data = tensor) instead of copying into them."""
TARGET = "gpt.py"
REPLACE = {"                params[name].copy_(tensor)\n": "                params[name].data = tensor\n"}
