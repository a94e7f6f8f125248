"""evaluate(iters=k) forgets to put back the model's mode: a training model comes back in eval mode."""
TARGET = "train.py"
REPLACE = {"            losses.append(lm_loss(model(x)[0], y).item())\n        model.train(was_training)\n": "            losses.append(lm_loss(model(x)[0], y).item())\n"}
