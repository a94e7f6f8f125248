"""Targets not shifted: y is the same window as x, so the model learns to copy its input."""
TARGET = "data.py"


def get_batch(data, batch_size, block_size, generator, device="cpu"):
    offsets = torch.randint(len(data) - block_size, (batch_size,), generator=generator).numpy()
    windows = torch.from_numpy(np.asarray(data)[offsets[:, None] + np.arange(block_size)].astype(np.int64))
    return windows.to(device), windows.clone().to(device)
