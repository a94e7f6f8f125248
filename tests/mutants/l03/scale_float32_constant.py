"""Scale computed as a float32 tensor (torch.sqrt(torch.tensor(d_k))): float64 attention loses its precision, badly at large scores."""
TARGET = "attention.py"
REPLACE = {
    "    scores = q @ k.transpose(-2, -1) / math.sqrt(d_k)\n":
    "    scores = q @ k.transpose(-2, -1) / torch.sqrt(torch.tensor(d_k))\n",
}
