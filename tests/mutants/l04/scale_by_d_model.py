"""Scores divided by sqrt(d_model) instead of sqrt(head_dim) (attention written out by hand in forward)."""
TARGET = "multihead.py"
REPLACE = {
    "        y, weights = scaled_dot_product_attention(\n"
    "            q, k, v, mask, dropout_p=self.attn_dropout.p, training=self.training\n"
    "        )\n":
    "        scores = q @ k.transpose(-2, -1) / self.d_model ** 0.5\n"
    "        if mask is not None:\n"
    "            scores = scores.masked_fill(~mask, float(\"-inf\"))\n"
    "        weights = self.attn_dropout(torch.softmax(scores, dim=-1))\n"
    "        y = weights @ v\n",
}
