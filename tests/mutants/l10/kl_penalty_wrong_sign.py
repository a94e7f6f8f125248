"""KL penalty with the wrong sign: moving away from the reference is rewarded instead of penalised."""
TARGET = 'ppo.py'
REPLACE = {
    "    rewards = -kl_coef * (logprobs - reference_logprobs) * action_mask\n": "    rewards = kl_coef * (logprobs - reference_logprobs) * action_mask\n",
}
