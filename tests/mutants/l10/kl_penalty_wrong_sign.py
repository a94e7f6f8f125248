"""KL penalty with the wrong sign: moving away from the reference is rewarded instead of penalised."""
TARGET = 'ppo.py'
REPLACE = {
    '    if not action_mask.any(dim=1).all():\n        raise ValueError("a row has no reply token: there is nowhere to put its score")\n    ### BEGIN SOLUTION\n    rewards = -kl_coef * (logprobs - reference_logprobs) * action_mask\n    positions = torch.arange(action_mask.shape[1], device=action_mask.device)\n    last = torch.where(action_mask, positions, -1).max(dim=1).values  # (B,)\n': '    rewards = kl_coef * (logprobs - reference_logprobs) * action_mask\n    positions = torch.arange(action_mask.shape[1])\n    last = torch.where(action_mask, positions, -1).max(dim=1).values\n',
}
