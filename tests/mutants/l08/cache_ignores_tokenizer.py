"""The cache file is named after the text only: another tokenizer reads the first tokenizer's ids."""
TARGET = "data.py"


def encode_corpus(text_path, tokenizer, cache_dir, val_fraction=0.1):
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be between 0 and 1 (exclusive), got {val_fraction}")
    text = Path(text_path).read_text(encoding="utf-8")
    cache_file = Path(cache_dir) / f"{hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]}.npy"
    if not cache_file.is_file():
        ids = tokenizer.encode_ordinary(text)
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        np.save(cache_file, np.array(ids, dtype=np.uint16 if max(ids, default=0) < 2**16 else np.uint32))
    ids = np.load(cache_file, mmap_mode="r")
    split = int(len(ids) * (1.0 - val_fraction))
    return ids[:split], ids[split:]
