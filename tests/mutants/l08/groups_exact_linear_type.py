"""param_groups tests type(module) is nn.Linear: subclasses of nn.Linear (MultiheadAttention's out_proj) do not decay."""
TARGET = "optim.py"
REPLACE = {"is_linear_weight = isinstance(module, nn.Linear) and name == \"weight\"": "is_linear_weight = type(module) is nn.Linear and name == \"weight\""}
