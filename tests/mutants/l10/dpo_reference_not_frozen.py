"""The reference's log-probabilities computed with gradients: the optimizer would move the reference too."""
TARGET = 'dpo.py'
REPLACE = {
    '    policy_chosen = sequence_logprobs(policy, chosen_ids, chosen_mask)\n    policy_rejected = sequence_logprobs(policy, rejected_ids, rejected_mask)\n    with torch.no_grad():\n        reference_chosen = sequence_logprobs(reference, chosen_ids, chosen_mask)\n        reference_rejected = sequence_logprobs(reference, rejected_ids, rejected_mask)\n    return dpo_loss(policy_chosen, policy_rejected, reference_chosen, reference_rejected, beta)\n': '    return dpo_loss(\n        sequence_logprobs(policy, chosen_ids, chosen_mask), sequence_logprobs(policy, rejected_ids, rejected_mask),\n        sequence_logprobs(reference, chosen_ids, chosen_mask), sequence_logprobs(reference, rejected_ids, rejected_mask),\n        beta,\n    )\n',
}
