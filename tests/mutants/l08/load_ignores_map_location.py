"""load_checkpoint drops map_location: a checkpoint saved on a GPU cannot be loaded on a CPU-only machine."""
TARGET = "train.py"
REPLACE = {"        return torch.load(path, map_location=map_location, weights_only=True)": "        return torch.load(path, weights_only=True)"}
