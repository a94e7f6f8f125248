"""The reference's log-probabilities computed with gradients: the optimizer would move the reference too."""
TARGET = "dpo.py"


def dpo_batch_loss(policy, reference, chosen_ids, chosen_mask, rejected_ids, rejected_mask, beta=0.1):
    return dpo_loss(
        sequence_logprobs(policy, chosen_ids, chosen_mask), sequence_logprobs(policy, rejected_ids, rejected_mask),
        sequence_logprobs(reference, chosen_ids, chosen_mask), sequence_logprobs(reference, rejected_ids, rejected_mask),
        beta,
    )
