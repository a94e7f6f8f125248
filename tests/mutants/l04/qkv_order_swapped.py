"""q and k taken from c_attn in the wrong order: the output columns are [q | k | v]."""
TARGET = "multihead.py"
REPLACE = {
    '        q, k, v = self.c_attn(x).split(self.d_model, dim=-1)\n':
    '        k, q, v = self.c_attn(x).split(self.d_model, dim=-1)\n',
}
