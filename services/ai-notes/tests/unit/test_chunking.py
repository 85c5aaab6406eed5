"""The chunker cuts along Markdown structure, within the size limit, with overlap."""

from __future__ import annotations

import itertools

import pytest

from edvent_ai_notes.domain.chunking import chunk_markdown

LESSON = (
    """Some words before any heading.

# Thermodynamics

Heat is energy in transit. It flows from warm to cold.

## Entropy

"""
    + " ".join(f"Sentence number {i} says something about entropy." for i in range(40))
    + """

```python
def entropy(states):
    return log(states)
```

## Engines

- a hot reservoir
- a cold reservoir

# Summary

The end.
"""
)


def test_chunks_follow_the_headings_in_order():
    chunks = chunk_markdown(LESSON, max_chars=400, overlap=60)
    assert [c.position for c in chunks] == list(range(len(chunks)))
    paths = [c.heading_path for c in chunks]
    assert paths[0] == ()
    assert paths[1] == ("Thermodynamics",)
    assert ("Thermodynamics", "Entropy") in paths
    assert paths[-2:] == [("Thermodynamics", "Engines"), ("Summary",)]
    # A heading of a lower level closes the deeper ones.
    assert ("Thermodynamics", "Entropy", "Summary") not in paths


def test_no_chunk_is_longer_than_the_limit_and_neighbours_overlap():
    chunks = chunk_markdown(LESSON, max_chars=400, overlap=60)
    assert max(len(c.text) for c in chunks) <= 400
    entropy = [c for c in chunks if c.heading_path == ("Thermodynamics", "Entropy")]
    assert len(entropy) > 2
    for before, after in itertools.pairwise(entropy):
        assert after.text[:20] in before.text  # starts with the end of the previous one


def test_a_code_block_and_a_list_are_kept_whole_when_they_fit():
    chunks = chunk_markdown(LESSON, max_chars=400, overlap=60)
    assert any("def entropy(states):\n    return log(states)" in c.text for c in chunks)
    assert any("- a hot reservoir\n- a cold reservoir" in c.text for c in chunks)


def test_sections_are_not_mixed_in_one_chunk():
    chunks = chunk_markdown(LESSON, max_chars=4000, overlap=100)
    assert len(chunks) == 5
    assert chunks[-1].text == "The end."


def test_an_empty_body_has_no_chunks_and_a_bad_overlap_is_refused():
    assert chunk_markdown("   \n") == []
    with pytest.raises(ValueError, match="overlap"):
        chunk_markdown("x", max_chars=200, overlap=150)
