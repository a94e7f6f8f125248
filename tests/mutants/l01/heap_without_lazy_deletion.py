"""No lazy deletion: the trainer merges the top of the heap even when its count is out of date."""
TARGET = "bpe.py"


def train_merges(word_counts, num_merges, verbose=False):
    words = [list(word) for word in word_counts]
    weights = list(word_counts.values())
    stats = {}
    where = defaultdict(set)
    for index, (word, weight) in enumerate(zip(words, weights)):
        for pair in zip(word, word[1:]):
            stats[pair] = stats.get(pair, 0) + weight
            where[pair].add(index)
    heap = [(merge_priority(pair, count), pair) for pair, count in stats.items()]
    heapq.heapify(heap)
    merges = {}
    for new_id in range(256, 256 + num_merges):
        while heap:
            key, pair = heapq.heappop(heap)
            if stats.get(pair, 0) > 0:  # no check that `key` is the pair's current count
                break
        else:
            break
        merges[pair] = new_id
        changes = defaultdict(int)
        for index in where.pop(pair):
            word = words[index]
            merged = merge(word, pair, new_id)
            if len(merged) == len(word):
                continue
            for old in zip(word, word[1:]):
                changes[old] -= weights[index]
            for new in zip(merged, merged[1:]):
                changes[new] += weights[index]
                where[new].add(index)
            words[index] = merged
        for changed, delta in changes.items():
            if delta:
                stats[changed] = stats.get(changed, 0) + delta
                heapq.heappush(heap, (merge_priority(changed, stats[changed]), changed))
    return merges
