"""Gradient accumulation without dividing each micro-batch's loss by k: k times the gradient."""
TARGET = "train.py"


def train_step(model, optimizer, micro_batches, grad_clip=0.0):
    total = 0.0
    for x, y in micro_batches:
        loss = lm_loss(model(x)[0], y)
        loss.backward()
        total += loss.item() / len(micro_batches)
    if grad_clip > 0:
        clip_grad_norm(model.parameters(), grad_clip)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return total
