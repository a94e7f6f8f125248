"""evaluate(iters=k) ends with model.train(): a model that was in eval mode comes back in training mode."""
TARGET = "train.py"
REPLACE = {"            losses.append(lm_loss(model(x)[0], y).item())\n        model.train(was_training)\n": "            losses.append(lm_loss(model(x)[0], y).item())\n        model.train()\n"}
