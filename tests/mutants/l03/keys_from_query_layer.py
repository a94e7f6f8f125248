"""Keys computed with the query projection: q and k share weights, so scores become symmetric."""
TARGET = "attention.py"
REPLACE = {
    '        q, k, v = self.query(x), self.key(x), self.value(x)\n':
    '        q, k, v = self.query(x), self.query(x), self.value(x)\n',
}
