"""softmax makes its replacement zeros with torch.zeros(shape): on the CPU whatever the input's device."""
TARGET = "attention.py"
REPLACE = {
    "    x_max = torch.where(torch.isneginf(x_max), torch.zeros_like(x_max), x_max)\n":
    "    x_max = torch.where(torch.isneginf(x_max), torch.zeros(x_max.shape, dtype=x_max.dtype), x_max)\n",
}
