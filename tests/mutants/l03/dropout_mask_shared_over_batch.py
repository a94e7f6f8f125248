"""Hand-made dropout with one (T_q, T_k) mask broadcast over the batch and heads: every sequence drops the same weights."""
TARGET = "attention.py"
REPLACE = {
    "    weights = F.dropout(weights, p=dropout_p, training=training)\n":
    "    if training and dropout_p > 0:\n"
    "        keep = torch.rand(weights.shape[-2:]) >= dropout_p\n"
    "        weights = weights * keep / (1 - dropout_p)\n",
}
