"""Dropout given the keep probability: F.dropout(p=1 - dropout_p) drops 70% of the weights when asked for 30%."""
TARGET = "attention.py"
REPLACE = {
    "    weights = F.dropout(weights, p=dropout_p, training=training)\n":
    "    weights = F.dropout(weights, p=1 - dropout_p, training=training)\n",
}
