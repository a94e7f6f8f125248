"""The measurement seeds the global RNG without restoring it (the caller's random stream changes)."""
TARGET = "norm.py"
REPLACE = {
    "    with torch.random.fork_rng(devices=[]):  # a private RNG stream: the caller's seed state is untouched\n":
    "    if True:  # no fork_rng: manual_seed below resets the caller's global RNG\n",
}
