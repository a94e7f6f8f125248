"""Stop tokens are not honoured: generation always runs max_new_tokens steps."""
TARGET = 'generate.py'
REPLACE = {
    '        if len(stop) and finished.all():\n            return\n': '',
}
