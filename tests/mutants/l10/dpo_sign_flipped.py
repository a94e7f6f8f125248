"""DPO with the sign flipped: the policy is pushed towards the rejected replies."""
TARGET = 'dpo.py'
REPLACE = {
    '    ### BEGIN SOLUTION\n    chosen_logratios = policy_chosen_logps - reference_chosen_logps\n    rejected_logratios = policy_rejected_logps - reference_rejected_logps\n    loss = -F.logsigmoid(beta * (chosen_logratios - rejected_logratios)).mean()\n    return loss, beta * chosen_logratios.detach(), beta * rejected_logratios.detach()\n': '    chosen = policy_chosen_logps - reference_chosen_logps\n    rejected = policy_rejected_logps - reference_rejected_logps\n    loss = -F.logsigmoid(-beta * (chosen - rejected)).mean()\n    return loss, beta * chosen.detach(), beta * rejected.detach()\n',
}
