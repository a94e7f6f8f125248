"""Disallowed special tokens are looked for only in the text between allowed ones, not in the whole text."""
TARGET = "bpe.py"
REPLACE = {
    "        if disallowed:\n            found = regex.search(special_token_pattern(disallowed), text)\n            if found:\n                raise disallowed_special_error(found.group())\n        if not allowed:\n": "        if disallowed and not allowed:\n            found = regex.search(special_token_pattern(disallowed), text)\n            if found:\n                raise disallowed_special_error(found.group())\n        if not allowed:\n",
    "            else:\n                ids.extend(self.encode_ordinary(part))\n        return ids\n": "            else:\n                if disallowed and (found := regex.search(special_token_pattern(disallowed), part)):\n                    raise disallowed_special_error(found.group())\n                ids.extend(self.encode_ordinary(part))\n        return ids\n",
}
