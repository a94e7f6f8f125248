"""evaluate always appends the short last window, even when the stream divides evenly (an empty window, a NaN loss)."""
TARGET = "train.py"
REPLACE = {"    if n_predictions % block_size:  # the short last window\n": "    if True:  # the short last window\n"}
