"""ppo_step adds the value loss at full weight: value_coef is accepted and ignored."""
TARGET = "ppo.py"
REPLACE = {"    (policy_loss + value_coef * value_loss).backward()\n": "    (policy_loss + value_loss).backward()\n"}
