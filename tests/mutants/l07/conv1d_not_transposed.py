"""Loading Hugging Face weights without transposing the Conv1D (in, out) matrices (square ones load silently wrong)."""
TARGET = "gpt.py"
REPLACE = {
    "                if name.endswith(CONV1D_WEIGHTS):\n                    tensor = tensor.t()  # Conv1D (in, out) -> nn.Linear (out, in)\n": "                tensor = tensor.reshape(params[name].shape)\n",
}
