"""kl_penalized_rewards computes the penalty in place in the caller's logprobs (sub_, mul_)."""
TARGET = "ppo.py"
REPLACE = {
    "    rewards = -kl_coef * (logprobs - reference_logprobs) * action_mask\n":
    "    rewards = logprobs.sub_(reference_logprobs).mul_(-kl_coef * action_mask)\n",
}
