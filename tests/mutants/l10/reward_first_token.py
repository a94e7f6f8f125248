"""The reward head reads the first token, which has seen nothing of the reply."""
TARGET = "reward.py"


def forward(self, ids):
    return self.head(hidden_states(self.gpt, ids)[:, 0]).squeeze(-1)


RewardModel.forward = forward
