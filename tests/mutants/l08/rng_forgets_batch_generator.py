"""The checkpoint restores torch's global RNG but not the batch generator: a resumed run sees other batches."""
TARGET = "train.py"


def restore_rng(state, generator):
    torch.set_rng_state(state["torch"])
