"""rollout generates the longest prompts first: the generator's draws go to other rows than documented."""
TARGET = "ppo.py"
REPLACE = {"    for length in sorted(by_length):\n": "    for length in sorted(by_length, reverse=True):\n"}
