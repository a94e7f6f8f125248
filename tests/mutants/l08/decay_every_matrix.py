"""nanoGPT's rule, every parameter with 2+ dimensions decays: the embeddings wte (tied to lm_head) and wpe too."""
TARGET = "optim.py"


def param_groups(model, weight_decay):
    trainable = [p for p in model.parameters() if p.requires_grad]
    return [
        {"params": [p for p in trainable if p.dim() >= 2], "weight_decay": weight_decay},
        {"params": [p for p in trainable if p.dim() < 2], "weight_decay": 0.0},
    ]
