"""hf_state_dict exports nn.Linear's (out, in) weights where Hugging Face's Conv1D expects (in, out)."""
TARGET = "gpt.py"
REPLACE = {"name: tensor.t().contiguous() if name.endswith(CONV1D_WEIGHTS) else tensor": "name: tensor"}
