"""ppo_step reports approx_kl as the sum of old_logprobs - logprobs over the reply tokens, not their mean."""
TARGET = "ppo.py"
REPLACE = {
    '    approx_kl = masked_mean(batch["old_logprobs"] - logprobs.detach(), mask)\n':
    '    approx_kl = ((batch["old_logprobs"] - logprobs.detach()) * mask).sum()\n',
}
