"""allowed_special is intersected as a set (registered & allowed_special): a list or tuple of names is a TypeError."""
TARGET = "bpe.py"
REPLACE = {'        allowed = registered if allowed_special == "all" else registered & set(allowed_special)\n': '        allowed = registered if allowed_special == "all" else registered & allowed_special\n'}
