"""dpo_batch_loss passes the log-probs to dpo_loss in the wrong order: the same loss, but rewards beta * (chosen - rejected)."""
TARGET = "dpo.py"
REPLACE = {
    "    return dpo_loss(policy_chosen, policy_rejected, reference_chosen, reference_rejected, beta)\n":
    "    return dpo_loss(policy_chosen, reference_chosen, policy_rejected, reference_rejected, beta)\n",
}
