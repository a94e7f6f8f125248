"""The language-model head is not tied to the token embedding (a separate vocab x C matrix)."""
TARGET = "gpt.py"

_init = GPT.__init__


def __init__(self, config):
    _init(self, config)
    self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
    nn.init.normal_(self.lm_head.weight, mean=0.0, std=0.02)


GPT.__init__ = __init__
