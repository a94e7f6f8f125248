"""The reward head reads the last position, which is padding in a right-padded batch."""
TARGET = "reward.py"


def forward(self, ids):
    return self.head(hidden_states(self.gpt, ids)[:, -1]).squeeze(-1)


RewardModel.forward = forward
