"""DPO without the reference model: only the policy's log-probabilities, nothing holds it near the SFT model."""
TARGET = 'dpo.py'
REPLACE = {
    '    ### BEGIN SOLUTION\n    chosen_logratios = policy_chosen_logps - reference_chosen_logps\n    rejected_logratios = policy_rejected_logps - reference_rejected_logps\n    loss = -F.logsigmoid(beta * (chosen_logratios - rejected_logratios)).mean()\n    return loss, beta * chosen_logratios.detach(), beta * rejected_logratios.detach()\n': '    loss = -F.logsigmoid(beta * (policy_chosen_logps - policy_rejected_logps)).mean()\n    return loss, beta * policy_chosen_logps.detach(), beta * policy_rejected_logps.detach()\n',
}
