"""load_hf_state_dict complains about missing keys only: unexpected ones (another model's weights) are silently dropped."""
TARGET = "gpt.py"
REPLACE = {
    "        if missing or unexpected:\n": "        if missing:\n",
    "            for name, tensor in incoming.items():\n": "            for name, tensor in incoming.items():\n                if name not in params:\n                    continue\n",
}
