"""Beam search ranks finished sequences by their summed log-probability, ignoring length_penalty."""
TARGET = "generate.py"


def beam_search(
    model: nn.Module,
    idx: torch.Tensor,
    *,
    num_beams: int,
    max_new_tokens: int,
    length_penalty: float = 1.0,
    early_stopping: bool | str = False,
    eos_token_id: int | None = None,
) -> torch.Tensor:
    if idx.dim() != 2 or idx.shape[0] != 1:
        raise ValueError(f"beam_search takes one prompt of shape (1, T), got {tuple(idx.shape)}")
    if num_beams < 1 or max_new_tokens < 1:
        raise ValueError(f"num_beams and max_new_tokens must be >= 1, got {num_beams} and {max_new_tokens}")
    if early_stopping not in (True, False, "never"):
        raise ValueError(f"early_stopping must be True, False or 'never', got {early_stopping!r}")
    if idx.shape[1] + max_new_tokens > model.config.block_size:
        raise ValueError(
            f"prompt ({idx.shape[1]}) + max_new_tokens ({max_new_tokens}) exceed block_size {model.config.block_size}"
        )
    with torch.inference_mode():
        cache = KVCache.for_model(model, batch_size=1, max_len=idx.shape[1] + max_new_tokens)
        weights = GPTWeights.of(model)
        logits = forward_with_cache(weights, idx, cache)[:, -1]  # (beams, vocab)
        beams = idx  # (beams, T + step): the live hypotheses
        beam_scores = torch.zeros(1, device=idx.device)  # their summed log-probabilities (float32)
        finished: list[tuple[torch.Tensor, torch.Tensor]] = []  # (score, sequence), best first
        for step in range(max_new_tokens):
            n = step + 1  # generated tokens once this step's token is appended
            vocab = logits.shape[-1]
            scores = (F.log_softmax(logits.float(), dim=-1) + beam_scores[:, None]).view(-1)
            top_scores, top_index = scores.topk(min(2 * num_beams, scores.numel()))
            live_beam, live_token, live_score = [], [], []
            for rank, (score, index) in enumerate(zip(top_scores, top_index.tolist())):
                beam, token = divmod(index, vocab)
                if token == eos_token_id or n == max_new_tokens:
                    if rank < num_beams:
                        sequence = torch.cat([beams[beam], beams.new_tensor([token])])
                        finished.append((score, sequence))
                elif len(live_beam) < num_beams:
                    live_beam.append(beam)
                    live_token.append(token)
                    live_score.append(score)
            finished = sorted(finished, key=lambda item: item[0].item(), reverse=True)[:num_beams]
            if not live_beam or n == max_new_tokens:
                break
            live_beam = torch.tensor(live_beam, device=idx.device)
            live_token = torch.tensor(live_token, device=idx.device)[:, None]
            beams = torch.cat([beams[live_beam], live_token], dim=1)
            beam_scores = torch.stack(live_score)
            if len(finished) == num_beams:
                if early_stopping is True:
                    break
                best_n = max_new_tokens if early_stopping == "never" and length_penalty > 0 else n
                if beam_scores[0] / best_n**length_penalty <= finished[-1][0]:
                    break  # no live beam can beat the worst finished hypothesis any more
            cache.reorder(live_beam)
            logits = forward_with_cache(weights, live_token, cache)[:, -1]
    return finished[0][1][None]
