"""The fused path passes dropout_p=self.attn_dropout.p whatever the mode: attention weights are dropped in eval() too."""
TARGET = "causal.py"
REPLACE = {
    '            dropout_p=self.attn_dropout.p if self.training else 0.0,\n':
    '            dropout_p=self.attn_dropout.p,\n',
}
