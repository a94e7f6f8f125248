"""DPO applies beta twice: the loss's margin is beta times the (already beta-scaled) implicit rewards."""
TARGET = "dpo.py"
REPLACE = {"    loss = -F.logsigmoid(beta * (chosen_logratios - rejected_logratios)).mean()\n":
           "    loss = -F.logsigmoid(beta * (beta * chosen_logratios - beta * rejected_logratios)).mean()\n"}
