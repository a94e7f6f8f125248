"""gae allocates its advantages with torch.zeros(shape): float32 whatever the rewards' dtype, float64 precision lost."""
TARGET = "ppo.py"
REPLACE = {"    advantages = torch.zeros_like(rewards)\n": "    advantages = torch.zeros(rewards.shape)\n"}
