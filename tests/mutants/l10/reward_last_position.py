"""The reward head reads the last position, which is padding in a right-padded batch."""
TARGET = 'reward.py'
REPLACE = {
    '        hidden = hidden_states(self.gpt, ids)  # (B, T, C)\n        last = hidden[torch.arange(ids.shape[0], device=ids.device), last_token_index(ids, pad_id=self.pad_id)]  # (B, C)\n        return self.head(last).squeeze(-1)\n': '        return self.head(hidden_states(self.gpt, ids)[:, -1]).squeeze(-1)\n',
}
