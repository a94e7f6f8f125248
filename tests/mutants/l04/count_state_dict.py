"""Parameters counted from the state dict: buffers counted, tied weights counted twice, frozen ones too."""
TARGET = "multihead.py"


def count_parameters(module, trainable_only=True):
    return sum(t.numel() for t in module.state_dict().values())
