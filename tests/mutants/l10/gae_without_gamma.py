"""GAE with the wrong discount recursion: A_t = delta_t + lam * A_(t+1), the gamma left out."""
TARGET = 'ppo.py'
REPLACE = {
    "        advantages[:, t] = (delta + gamma * lam * next_advantage) * action_mask[:, t]\n        # Outside the reply the chain is cut: what comes after the reply's last token is worth 0.\n": '        advantages[:, t] = (delta + lam * next_advantage) * action_mask[:, t]\n',
}
