"""Attention flattens the leading dims with .view for a batched matmul: transposed or sliced q, k, v raise."""
TARGET = "attention.py"
REPLACE = {
    "    scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)\n":
    "    scores = torch.bmm(q.view(-1, *q.shape[-2:]), k.view(-1, *k.shape[-2:]).transpose(1, 2))\n"
    "    scores = scores.view(*q.shape[:-1], k.size(-2)) / math.sqrt(d_k)\n",
}
