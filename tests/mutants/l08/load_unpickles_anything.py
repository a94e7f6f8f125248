"""load_checkpoint with weights_only=False: unpickling a downloaded checkpoint can run arbitrary code."""
TARGET = "train.py"


def load_checkpoint(path, map_location="cpu"):
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    try:
        return torch.load(path, map_location=map_location, weights_only=False)
    except (RuntimeError, EOFError) as exc:
        raise ValueError(f"{path} is not a readable checkpoint: {exc}") from exc
