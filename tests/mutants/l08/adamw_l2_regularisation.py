"""L2 regularisation instead of decoupled weight decay: weight_decay * p is added to the gradient."""
TARGET = "optim.py"
REPLACE = {
    "                grad = p.grad\n": "                grad = p.grad + weight_decay * p\n",
    "                p.mul_(1.0 - lr * weight_decay)  # decoupled: the decay never passes through m or v\n": "",
}
