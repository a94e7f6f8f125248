"""Clipping inside the accumulation loop: each micro-batch is clipped, not the sum."""
TARGET = "train.py"


def train_step(model, optimizer, micro_batches, grad_clip=0.0):
    k = len(micro_batches)
    total = 0.0
    for x, y in micro_batches:
        loss = lm_loss(model(x)[0], y) / k
        loss.backward()
        total += loss.item()
        if grad_clip > 0:
            clip_grad_norm(model.parameters(), grad_clip)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)
    return total
