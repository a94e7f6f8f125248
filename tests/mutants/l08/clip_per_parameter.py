"""Clipping each parameter's gradient to max_norm on its own: the update changes direction."""
TARGET = "optim.py"


def clip_grad_norm(parameters, max_norm):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    grads = [p.grad for p in parameters if p.grad is not None]
    total = torch.linalg.vector_norm(torch.stack([g.norm() for g in grads]))
    for g in grads:
        scale = max_norm / (g.norm() + 1e-6)
        if scale < 1:
            g.mul_(scale)
    return total.item()
