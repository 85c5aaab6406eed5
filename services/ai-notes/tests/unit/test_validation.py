"""Generated notes are checked before they are stored."""

from __future__ import annotations

import pytest

from edvent_ai_notes.adapters.providers import MalformedAnswer
from edvent_ai_notes.domain.notes import GeneratedNote, KeyConcept
from edvent_ai_notes.usecases.notes import validated


def test_concepts_are_trimmed_and_deduplicated_ignoring_case():
    note = validated(
        GeneratedNote(
            summary_markdown="  # Heat\n\nIt flows. ",
            key_concepts=(
                KeyConcept(" Entropy ", " Disorder. "),
                KeyConcept("entropy", "Again."),
                KeyConcept("Heat", "Energy in transit."),
            ),
            model="m",
        )
    )
    assert note.summary_markdown == "# Heat\n\nIt flows."
    assert [(c.name, c.definition) for c in note.key_concepts] == [
        ("Entropy", "Disorder."),
        ("Heat", "Energy in transit."),
    ]


@pytest.mark.parametrize(
    "note",
    [
        GeneratedNote(summary_markdown=" ", key_concepts=(), model="m"),
        GeneratedNote(summary_markdown="x", key_concepts=(KeyConcept("", "d"),), model="m"),
        GeneratedNote(summary_markdown="x", key_concepts=(KeyConcept("n", " "),), model="m"),
    ],
    ids=["empty-summary", "nameless-concept", "concept-without-definition"],
)
def test_notes_unfit_to_store_are_malformed(note):
    with pytest.raises(MalformedAnswer):
        validated(note)
