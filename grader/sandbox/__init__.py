"""The sandbox and the runner: overlays, the warm zygote, confinement, and the proxies that keep the learner's code out of the process that decides."""
