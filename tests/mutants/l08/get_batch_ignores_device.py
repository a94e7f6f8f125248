"""get_batch ignores its device argument: the batches stay on the CPU while the model is on the GPU."""
TARGET = "data.py"
REPLACE = {"    windows = torch.from_numpy(windows.astype(np.int64)).to(device)": "    windows = torch.from_numpy(windows.astype(np.int64))"}
