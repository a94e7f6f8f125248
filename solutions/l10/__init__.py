"""Lesson 10: from completion to conversation: the chat format, SFT, a reward model, DPO and PPO."""
