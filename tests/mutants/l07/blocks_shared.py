"""transformer.h holds ONE block n_layer times ([Block(config)] * n_layer): the layers share their weights."""
TARGET = "gpt.py"
REPLACE = {"h=nn.ModuleList(Block(config) for _ in range(config.n_layer)),": "h=nn.ModuleList([Block(config)] * config.n_layer),"}
