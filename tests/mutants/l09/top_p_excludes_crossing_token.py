"""Top-p drops the token that crosses p (keeps cumulative <= p), though it keeps the top token."""
TARGET = 'sampling.py'
REPLACE = {
    '    # The tail whose whole mass is <= 1 - p can go; what stays then holds at least p.\n    drop_sorted = cumulative <= 1 - p\n    drop_sorted[..., -1] = False  # the most likely token always stays\n    drop = drop_sorted.scatter(-1, order, drop_sorted)  # back to vocabulary order\n': '    drop_sorted = cumulative > p\n    drop_sorted[..., 0] = False\n    drop = drop_sorted.scatter(-1, order, drop_sorted)\n',
}
