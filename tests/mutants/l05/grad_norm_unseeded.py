"""The measurement seeds the global RNG without restoring it (the caller's random stream changes)."""
TARGET = "norm.py"


def first_layer_grad_norm(block_cls, depth, d_model=64, n_head=4, seq_len=16, batch=4, seed=0, layer=0):
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
    torch.manual_seed(seed)
    blocks = nn.Sequential(*(block_cls(d_model, n_head) for _ in range(depth)))
    x = torch.randn(batch, seq_len, d_model)
    target = torch.randn(batch, seq_len, d_model)
    loss = (F.layer_norm(blocks(x), (d_model,)) - target).pow(2).mean()
    grads = torch.autograd.grad(loss, list(blocks[layer].parameters()))
    return torch.sqrt(sum(g.pow(2).sum() for g in grads)).item()
