"""allowed_special is not limited to registered special tokens: an unknown name in it is a KeyError."""
TARGET = "bpe.py"
REPLACE = {'        allowed = registered if allowed_special == "all" else registered & set(allowed_special)\n': '        allowed = registered if allowed_special == "all" else set(allowed_special)\n'}
