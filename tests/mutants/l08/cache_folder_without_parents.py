"""encode_corpus creates cache_dir without its parents: runs/cache fails when runs/ does not exist yet."""
TARGET = "data.py"
REPLACE = {"        cache_dir.mkdir(parents=True, exist_ok=True)": "        cache_dir.mkdir(exist_ok=True)"}
