"""The stop token is not yielded: a stopped sequence loses its final (stop) token."""
TARGET = "generate.py"
REPLACE = {
    "        yield next_id\n        if len(stop) and finished.all():\n            return\n":
    "        if len(stop) and finished.all():\n            return\n        yield next_id\n",
}
