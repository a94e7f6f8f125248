"""sample_next flattens the draw: 1-D logits give an id of shape (1,) instead of a 0-d id."""
TARGET = "sampling.py"
REPLACE = {"    return torch.multinomial(probs, num_samples=1, generator=generator).squeeze(-1)\n":
           "    return torch.multinomial(probs, num_samples=1, generator=generator).view(-1)\n"}
