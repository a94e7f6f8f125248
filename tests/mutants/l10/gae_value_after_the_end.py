"""GAE bootstraps from the value of the padding after the reply: the episode never ends."""
TARGET = 'ppo.py'
REPLACE = {
    "        # Outside the reply the chain is cut: what comes after the reply's last token is worth 0.\n        next_value = values[:, t] * action_mask[:, t]\n": '        next_value = values[:, t]\n',
}
