"""The stop token is not yielded: a stopped sequence loses its final (stop) token."""
TARGET = "generate.py"


def stream(
    model: nn.Module,
    idx: torch.Tensor,
    max_new_tokens: int,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    repetition_penalty: float = 1.0,
    stop_tokens: Iterable[int] = (),
    generator: torch.Generator | None = None,
    use_cache: bool = True,
) -> Iterator[torch.Tensor]:
    if idx.dim() != 2 or idx.shape[1] == 0:
        raise ValueError(f"idx must be a non-empty (B, T) batch of token ids, got shape {tuple(idx.shape)}")
    if max_new_tokens < 0:
        raise ValueError(f"max_new_tokens must be >= 0, got {max_new_tokens}")
    B, T = idx.shape
    block_size = model.config.block_size
    stop = torch.tensor(sorted(set(stop_tokens)), dtype=torch.long, device=idx.device)
    with torch.inference_mode():
        ids = idx.new_empty(B, T + max_new_tokens)  # the whole sequence, allocated once
        ids[:, :T] = idx
        finished = torch.zeros(B, dtype=torch.bool, device=idx.device)
        cache = KVCache.for_model(model, B) if use_cache else None
        weights = GPTWeights.of(model) if use_cache else None  # looked up once, not per token
    length, unseen = T, T  # tokens so far; how many of them the cache has not seen
    for _ in range(max_new_tokens):
        with torch.inference_mode():  # not across the yield: the caller's code must run in its own mode
            if cache is None:
                logits = model(ids[:, max(0, length - block_size) : length])[0][:, -1]
            else:
                if cache.length + unseen > cache.max_len:  # window full: positions shift, rebuild the cache
                    cache.reset()
                    unseen = min(length, block_size)
                logits = forward_with_cache(weights, ids[:, length - unseen : length], cache)[:, -1]
            if repetition_penalty != 1.0:
                logits = apply_repetition_penalty(logits, ids[:, :length], repetition_penalty)
            next_id = sample_next(logits, temperature=temperature, top_k=top_k, top_p=top_p, generator=generator)
            if len(stop):
                next_id = torch.where(finished, ids[:, length - 1], next_id)  # finished rows repeat their stop token
                finished |= torch.isin(next_id, stop)
            ids[:, length] = next_id
            length, unseen = length + 1, 1
        if len(stop) and finished.all():
            return
        yield next_id
