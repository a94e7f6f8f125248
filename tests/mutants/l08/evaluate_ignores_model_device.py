"""evaluate leaves the validation windows on the CPU: a model on the GPU gets inputs on another device."""
TARGET = "train.py"
REPLACE = {
    "    stream = torch.from_numpy(np.asarray(data).astype(np.int64)).to(device)": "    stream = torch.from_numpy(np.asarray(data).astype(np.int64))",
    "            x, y = get_batch(data, batch_size, block_size, generator, device)\n": "            x, y = get_batch(data, batch_size, block_size, generator)\n",
}
