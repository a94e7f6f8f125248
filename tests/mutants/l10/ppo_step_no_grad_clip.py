"""ppo_step never clips the gradient norm: max_grad_norm is accepted and ignored."""
TARGET = "ppo.py"
REPLACE = {"    torch.nn.utils.clip_grad_norm_(policy.parameters(), max_grad_norm)\n": ""}
