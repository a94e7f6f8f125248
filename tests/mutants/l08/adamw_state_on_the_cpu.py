"""AdamW allocates its moments with torch.zeros(p.shape, dtype=p.dtype): on the CPU whatever the parameter's device."""
TARGET = "optim.py"
REPLACE = {
    '                    state["exp_avg"] = torch.zeros_like(p)\n':
    '                    state["exp_avg"] = torch.zeros(p.shape, dtype=p.dtype)\n',
    '                    state["exp_avg_sq"] = torch.zeros_like(p)\n':
    '                    state["exp_avg_sq"] = torch.zeros(p.shape, dtype=p.dtype)\n',
}
