"""A non-atomic checkpoint write: torch.save straight onto the path; a crash half-way destroys the old checkpoint."""
TARGET = "train.py"


def save_checkpoint(path, state):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, path)
