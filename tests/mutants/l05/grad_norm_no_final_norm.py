"""The measurement forgets the final LayerNorm (ln_f): the loss is taken on the raw output of the stack."""
TARGET = "norm.py"
REPLACE = {
    '    out = F.layer_norm(blocks(x), (d_model,))\n':
    '    out = blocks(x)\n',
}
