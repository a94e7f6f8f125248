"""DPO with the sign flipped: the policy is pushed towards the rejected replies."""
TARGET = "dpo.py"


def dpo_loss(policy_chosen_logps, policy_rejected_logps, reference_chosen_logps, reference_rejected_logps, beta=0.1):
    if beta <= 0:
        raise ValueError(f"beta must be > 0, got {beta}")
    chosen = policy_chosen_logps - reference_chosen_logps
    rejected = policy_rejected_logps - reference_rejected_logps
    loss = -F.logsigmoid(-beta * (chosen - rejected)).mean()
    return loss, beta * chosen.detach(), beta * rejected.detach()
