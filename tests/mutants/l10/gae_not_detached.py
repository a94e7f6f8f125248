"""gae works on the values as given: the advantages and returns carry a gradient back into the value head."""
TARGET = "ppo.py"
REPLACE = {"    rewards, values = rewards.detach(), values.detach()\n": ""}
