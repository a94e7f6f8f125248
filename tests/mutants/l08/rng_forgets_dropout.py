"""The checkpoint keeps the batch generator but not torch's global RNG: dropout masks differ after a resume."""
TARGET = "train.py"


def capture_rng(generator):
    return {"torch": None, "batches": generator.get_state()}


def restore_rng(state, generator):
    generator.set_state(state["batches"])
