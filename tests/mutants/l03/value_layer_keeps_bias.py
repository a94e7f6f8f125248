"""bias=False reaches only the query layer: the value layer keeps a bias (copy-paste of nn.Linear's default)."""
TARGET = "attention.py"
REPLACE = {
    "        self.value = nn.Linear(d_model, self.d_head, bias=bias)\n":
    "        self.value = nn.Linear(d_model, self.d_head)\n",
}
