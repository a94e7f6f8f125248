"""No bias correction: m and v are used as they are, too small in the first steps."""
TARGET = "optim.py"
REPLACE = {
    "                bias_correction1 = 1.0 - beta1**t\n                bias_correction2 = 1.0 - beta2**t\n": "                bias_correction1 = bias_correction2 = 1.0\n",
}
