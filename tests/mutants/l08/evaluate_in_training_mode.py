"""evaluate never calls model.eval(): dropout stays on while scoring."""
TARGET = "train.py"


@torch.no_grad()
def evaluate(model, data, batch_size, block_size, iters=None, generator=None):
    stream = torch.from_numpy(np.asarray(data).astype(np.int64))
    n_full = (len(stream) - 1) // block_size
    x_all = stream[: n_full * block_size].view(n_full, block_size)
    y_all = stream[1 : n_full * block_size + 1].view(n_full, block_size)
    batches = [(x_all[i : i + batch_size], y_all[i : i + batch_size]) for i in range(0, n_full, batch_size)]
    if (len(stream) - 1) % block_size:
        batches.append((stream[n_full * block_size : -1][None], stream[n_full * block_size + 1 :][None]))
    total = sum(lm_loss(model(x)[0], y).item() * y.numel() for x, y in batches)
    return total / (len(stream) - 1)
