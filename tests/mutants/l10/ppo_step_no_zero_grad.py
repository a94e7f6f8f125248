"""ppo_step never zeroes the gradients: a second step (the next minibatch) adds the first step's gradients to its own."""
TARGET = "ppo.py"
REPLACE = {"    optimizer.zero_grad()\n": ""}
