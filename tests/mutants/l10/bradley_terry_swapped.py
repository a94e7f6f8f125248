"""Bradley-Terry with chosen and rejected swapped: the reward model learns to prefer the rejected reply."""
TARGET = 'reward.py'
REPLACE = {
    '    if chosen_rewards.shape != rejected_rewards.shape:\n        raise ValueError(f"shapes differ: chosen {tuple(chosen_rewards.shape)}, rejected {tuple(rejected_rewards.shape)}")\n    ### BEGIN SOLUTION\n    return -F.logsigmoid(chosen_rewards - rejected_rewards).mean()\n': '    return -F.logsigmoid(rejected_rewards - chosen_rewards).mean()\n',
}
