"""Dropout applied even when training is False: evaluation becomes random."""
TARGET = "attention.py"
REPLACE = {
    '    weights = F.dropout(weights, p=dropout_p, training=training)\n':
    '    weights = F.dropout(weights, p=dropout_p, training=True)\n',
}
