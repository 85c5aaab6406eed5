"""The benchmarks of `make bench`; shared helpers below."""


def percentile(sorted_values: list[float], p: float) -> float:
    """The p-th percentile of already sorted values (nearest rank, no interpolation)."""
    index = min(len(sorted_values) - 1, round(p / 100 * (len(sorted_values) - 1)))
    return sorted_values[index]
