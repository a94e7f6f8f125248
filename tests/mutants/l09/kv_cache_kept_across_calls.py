"""The KV cache is kept per model and reused by the next generate call without a reset: a stale past."""
TARGET = "generate.py"
REPLACE = {
    "from .sampling import apply_repetition_penalty, sample_next\n": "from .sampling import apply_repetition_penalty, sample_next\n\n_CACHES: dict = {}\n",
    "        cache = KVCache.for_model(model, B) if use_cache else None\n":
    "        cache = _CACHES.setdefault((id(model), B), KVCache.for_model(model, B)) if use_cache else None\n",
}
