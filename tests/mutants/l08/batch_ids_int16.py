"""Token ids converted to int16: ids above 32767 turn negative."""
TARGET = "data.py"


def get_batch(data, batch_size, block_size, generator, device="cpu"):
    offsets = torch.randint(len(data) - block_size, (batch_size,), generator=generator).numpy()
    windows = np.asarray(data)[offsets[:, None] + np.arange(block_size + 1)].astype(np.int16)
    windows = torch.from_numpy(windows).long()
    return windows[:, :-1].to(device), windows[:, 1:].to(device)
