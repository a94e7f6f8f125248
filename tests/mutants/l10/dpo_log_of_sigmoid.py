"""DPO loss as log(sigmoid(.)) instead of logsigmoid: a large margin against the chosen reply gives inf."""
TARGET = "dpo.py"
REPLACE = {"    loss = -F.logsigmoid(beta * (chosen_logratios - rejected_logratios)).mean()\n":
           "    loss = -torch.log(torch.sigmoid(beta * (chosen_logratios - rejected_logratios))).mean()\n"}
