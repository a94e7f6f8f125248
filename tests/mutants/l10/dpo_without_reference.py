"""DPO without the reference model: only the policy's log-probabilities, nothing holds it near the SFT model."""
TARGET = "dpo.py"


def dpo_loss(policy_chosen_logps, policy_rejected_logps, reference_chosen_logps, reference_rejected_logps, beta=0.1):
    if beta <= 0:
        raise ValueError(f"beta must be > 0, got {beta}")
    loss = -F.logsigmoid(beta * (policy_chosen_logps - policy_rejected_logps)).mean()
    return loss, beta * policy_chosen_logps.detach(), beta * policy_rejected_logps.detach()
