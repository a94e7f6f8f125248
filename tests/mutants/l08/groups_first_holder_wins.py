"""param_groups lets the FIRST module holding a shared parameter decide: a Linear listed before its tied embedding decays it."""
TARGET = "optim.py"
REPLACE = {"decays[id(param)] = decays.get(id(param), True) and is_linear_weight": "decays.setdefault(id(param), is_linear_weight)"}
