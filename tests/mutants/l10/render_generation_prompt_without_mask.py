"""render_chat appends the generation prompt's id but no mask entry: the mask is one shorter than the ids."""
TARGET = "template.py"
REPLACE = {"        ids.append(special[ASSISTANT])\n        mask.append(False)\n": "        ids.append(special[ASSISTANT])\n"}
