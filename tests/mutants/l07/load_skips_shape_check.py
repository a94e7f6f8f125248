"""load_hf_state_dict does not compare shapes: a checkpoint of another size fails inside copy_ (or broadcasts) instead of a ValueError."""
TARGET = "gpt.py"
REPLACE = {"                if tensor.shape != params[name].shape:\n": "                if False:\n"}
