"""The mask is accepted but never passed on to the attention: every token sees the future."""
TARGET = "multihead.py"
REPLACE = {
    '            q, k, v, mask, dropout_p=self.attn_dropout.p, training=self.training\n':
    '            q, k, v, dropout_p=self.attn_dropout.p, training=self.training\n',
}
