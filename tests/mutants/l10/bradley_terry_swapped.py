"""Bradley-Terry with chosen and rejected swapped: the reward model learns to prefer the rejected reply."""
TARGET = "reward.py"


def bradley_terry_loss(chosen_rewards, rejected_rewards):
    return -F.logsigmoid(rejected_rewards - chosen_rewards).mean()
