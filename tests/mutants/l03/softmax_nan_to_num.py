"""All -inf slices handled by nan_to_num after the division: zeros come out, NaN gradients go back."""
TARGET = "attention.py"
REPLACE = {
    "    x_max = torch.where(torch.isneginf(x_max), torch.zeros_like(x_max), x_max)\n": "",
    "    return exps / torch.where(total == 0, torch.ones_like(total), total)\n":
    "    return torch.nan_to_num(exps / total, nan=0.0)\n",
}
