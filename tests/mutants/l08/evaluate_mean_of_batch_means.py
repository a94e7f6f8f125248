"""evaluate averages the batch means: the short last window weighs as much as a full batch."""
TARGET = "train.py"
REPLACE = {
    "        total += lm_loss(logits, y).item() * y.numel()  # a sum, so windows weigh by size\n    model.train(was_training)\n    return total / n_predictions\n": "        total += lm_loss(logits, y).item()\n    model.train(was_training)\n    return total / len(batches)\n",
}
