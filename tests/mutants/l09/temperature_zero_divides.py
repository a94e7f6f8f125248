"""Temperature 0 divides by zero (logits / 0 = +-inf and NaN) instead of meaning greedy."""
TARGET = 'sampling.py'
REPLACE = {
    '    if not (math.isfinite(temperature) and temperature >= 0):\n        raise ValueError(f"temperature must be a finite number >= 0, got {temperature}")\n    ### BEGIN SOLUTION\n    if temperature == 0:\n        keep = F.one_hot(greedy(logits), logits.shape[-1]).bool()\n        return logits.masked_fill(~keep, float("-inf"))\n': '',
}
