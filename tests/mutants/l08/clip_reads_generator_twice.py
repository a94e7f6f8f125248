"""The parameters are looped over twice: a generator (model.parameters()) is empty the second time."""
TARGET = "optim.py"


def clip_grad_norm(parameters, max_norm):
    if isinstance(parameters, torch.Tensor):
        parameters = [parameters]
    norms = [p.grad.norm() for p in parameters if p.grad is not None]
    total = torch.linalg.vector_norm(torch.stack(norms)) if norms else torch.tensor(0.0)
    scale = max_norm / (total + 1e-6)
    if scale < 1:
        for p in parameters:
            if p.grad is not None:
                p.grad.mul_(scale)
    return total.item()
