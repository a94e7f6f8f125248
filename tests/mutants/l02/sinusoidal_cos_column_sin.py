"""Copy-paste slip: the odd (cos) columns filled with sin too; the even (sin) columns are right."""
TARGET = "embeddings.py"
REPLACE = {"    pe[:, 1::2] = torch.cos(angles)\n": "    pe[:, 1::2] = torch.sin(angles)\n"}
