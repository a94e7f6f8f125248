"""Incremental trainer forgets to subtract the pairs a merge destroys: counts of old pairs go stale."""
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
            count = stats.get(pair, 0)
            if count > 0 and key == merge_priority(pair, count):
                break
        else:
            break
        merges[pair] = new_id
        stats[pair] = 0
        for index in where.pop(pair):
            word = words[index]
            merged = merge(word, pair, new_id)
            for new in zip(merged, merged[1:]):
                if new_id in new:  # only the new pairs are counted; the pairs the merge destroyed keep their counts
                    stats[new] = stats.get(new, 0) + weights[index]
                    where[new].add(index)
                    heapq.heappush(heap, (merge_priority(new, stats[new]), new))
            words[index] = merged
    return merges
