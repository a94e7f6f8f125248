"""Every token gets the embedding of position 0: the position embedding ignores where the token is."""
TARGET = "gpt.py"


def forward(self, idx, targets=None):
    T = idx.shape[1]
    if T > self.config.block_size:
        raise ValueError(f"sequence length {T} exceeds block_size {self.config.block_size}")
    x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe.weight[0])
    for block in self.transformer.h:
        x = block(x)
    logits = self.lm_head(self.transformer.ln_f(x))
    loss = None
    if targets is not None:
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1), ignore_index=-100)
    return logits, loss


GPT.forward = forward
