"""Weight decay applied to everything in Linear layers and LayerNorms: biases and norm scales shrink too."""
TARGET = "optim.py"


def param_groups(model, weight_decay):
    decay, no_decay = [], []
    seen = set()
    for module in model.modules():
        for name, p in module.named_parameters(recurse=False):
            if id(p) in seen or not p.requires_grad:
                continue
            seen.add(id(p))
            (no_decay if "Embedding" in type(module).__name__ else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
