"""forward builds a fresh causal mask on every call instead of using the cached buffer."""
TARGET = "causal.py"
REPLACE = {
    '        mask = self.mask[:, :, :T, :T]  # the cached mask: no per-step building\n':
    '        mask = causal_mask(T, device=x.device).view(1, 1, T, T)  # a new mask on every call\n',
}
