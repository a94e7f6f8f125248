"""get_batch never draws the last valid offset: randint's exclusive upper bound taken as inclusive."""
TARGET = "data.py"


def get_batch(data, batch_size, block_size, generator, device="cpu"):
    offsets = torch.randint(len(data) - block_size - 1, (batch_size,), generator=generator).numpy()
    windows = torch.from_numpy(np.asarray(data)[offsets[:, None] + np.arange(block_size + 1)].astype(np.int64))
    return windows[:, :-1].to(device), windows[:, 1:].to(device)
