"""The reward head reads the first token, which has seen nothing of the reply."""
TARGET = 'reward.py'
REPLACE = {
    '        hidden = hidden_states(self.gpt, ids)  # (B, T, C)\n        last = hidden[torch.arange(ids.shape[0], device=ids.device), last_token_index(ids, pad_id=self.pad_id)]  # (B, C)\n        return self.head(last).squeeze(-1)\n': '        return self.head(hidden_states(self.gpt, ids)[:, 0]).squeeze(-1)\n',
}
