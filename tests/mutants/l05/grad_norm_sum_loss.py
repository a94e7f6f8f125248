"""The measurement sums the squared errors instead of averaging them: every gradient is batch * seq_len * d_model times too large."""
TARGET = "norm.py"
REPLACE = {
    '    loss = (out - target).pow(2).mean()\n':
    '    loss = (out - target).pow(2).sum()\n',
}
