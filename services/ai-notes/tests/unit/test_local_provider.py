"""The local provider: no network, deterministic embeddings, notes worth reading."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from edvent_ai_notes.adapters.providers import NotesProvider, Unsummarisable
from edvent_ai_notes.adapters.providers.local import MODEL, LocalProvider
from edvent_ai_notes.bootstrap import build_provider
from edvent_ai_notes.config import EMBEDDING_DIMENSIONS, Settings
from edvent_ai_notes.domain.notes import LessonSource, Usage

DATA = Path(__file__).resolve().parent.parent / "data"
# A multi-section lesson written for these tests (prose, a code block, seven headings).
LESSON = (DATA / "lessons/thermodynamics.md").read_text()


def squash(text: str) -> str:
    return " ".join(text.split())


def lesson(markdown: str, title: str = "Introduction to Thermodynamics") -> LessonSource:
    return LessonSource(title=title, markdown=markdown, chunks=())


def long_lesson(words: int = 5000) -> str:
    """Real prose, many sections: lessons of the quality dataset as sections of one."""
    course = json.loads((DATA / "quality/course.json").read_text())
    parts = ["# A long lesson"]
    for entry in course["lessons"]:
        parts.append(entry["markdown"].replace("# ", "## ", 1))
        if len(" ".join(parts).split()) >= words:
            break
    return "\n\n".join(parts)


def test_it_implements_the_provider_interface() -> None:
    provider: NotesProvider = LocalProvider(dimensions=64)
    assert (provider.name, provider.dimensions) == ("local", 64)


async def test_embeddings_have_the_dimension_and_unit_length() -> None:
    vectors = await LocalProvider(dimensions=256).embed(
        ["Entropy never decreases in an isolated system.", "", "!!!"]
    )
    assert [len(v) for v in vectors] == [256, 256, 256]
    assert np.allclose(np.linalg.norm(np.array(vectors), axis=1), 1.0)
    assert await LocalProvider(dimensions=256).embed([]) == []


async def test_related_texts_are_closer_than_unrelated_ones() -> None:
    provider = LocalProvider(dimensions=384)
    passage, question, other = np.array(
        await provider.embed(
            [
                "The second law of thermodynamics states that entropy never decreases.",
                "Which law says that the entropy of an isolated system cannot decrease?",
                "Rollo, the Viking leader, swore fealty to King Charles III of West Francia.",
            ]
        )
    )
    assert passage @ question > passage @ other + 0.1


def test_embeddings_are_the_same_in_every_process() -> None:
    script = (
        "import asyncio, json;"
        "from edvent_ai_notes.adapters.providers.local import LocalProvider;"
        "print(json.dumps(asyncio.run(LocalProvider(dimensions=64).embed(['heat engines']))))"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    ]
    assert runs[0] == runs[1]
    assert json.loads(runs[0])[0] != [0.0] * 64


async def test_work_runs_off_the_event_loop() -> None:
    provider = LocalProvider(dimensions=64)
    seen: list[int] = []
    embed = provider._embedder.embed

    def recording(texts: list[str]) -> list[list[float]]:
        seen.append(threading.get_ident())
        return embed(texts)

    provider._embedder.embed = recording  # type: ignore[method-assign]
    await provider.embed(["a text"])
    assert seen and seen[0] != threading.get_ident()


async def test_the_summary_keeps_every_heading_in_order() -> None:
    note = await LocalProvider(dimensions=64).generate_notes(lesson=lesson(LESSON))
    headings = re.findall(r"^#+ .+$", LESSON, flags=re.MULTILINE)
    assert re.findall(r"^#+ .+$", note.summary_markdown, flags=re.MULTILINE) == headings
    assert (note.model, note.usage) == (MODEL, Usage())


async def test_the_summary_is_short_sentences_of_the_lesson() -> None:
    note = await LocalProvider(dimensions=64).generate_notes(lesson=lesson(LESSON))
    prose = [
        block
        for block in note.summary_markdown.split("\n\n")
        if block.strip() and not block.startswith(("#", "```"))
    ]
    assert prose
    for block in prose:
        sentences = re.split(r"(?<=[.!?])\s+", block.strip())
        assert 1 <= len(sentences) <= 3
        for sentence in sentences:
            assert squash(sentence) in squash(LESSON)
    assert len(note.summary_markdown.split()) < 0.6 * len(LESSON.split())
    assert "Thermodynamics is the branch of physics" in note.summary_markdown


async def test_code_blocks_are_kept_verbatim() -> None:
    note = await LocalProvider(dimensions=64).generate_notes(lesson=lesson(LESSON))
    code = re.search(r"```python\n.*?```", LESSON, flags=re.DOTALL)
    assert code is not None
    assert code.group(0) in note.summary_markdown


async def test_key_concepts_are_phrases_of_the_text_defined_by_its_sentences() -> None:
    note = await LocalProvider(dimensions=64).generate_notes(lesson=lesson(LESSON))
    names = [concept.name.casefold() for concept in note.key_concepts]
    assert 3 <= len(names) <= 10
    assert len(set(names)) == len(names)
    for concept in note.key_concepts:
        assert concept.name.casefold() in LESSON.casefold()
        assert len(concept.name.split()) <= 3
        assert squash(concept.definition) in squash(LESSON)
        assert len(concept.definition) <= 400
    definitions = {c.name.casefold(): c.definition for c in note.key_concepts}
    assert definitions["entropy"].startswith("Entropy is a measure")
    assert definitions["internal energy"].startswith("Internal energy is the total energy")


# Its speed is measured by `make bench` (bench/ai_notes.py), not asserted here.
async def test_a_five_thousand_word_lesson_keeps_its_sections() -> None:
    markdown = long_lesson()
    assert len(markdown.split()) >= 5000
    provider = LocalProvider(dimensions=1536)
    note = await provider.generate_notes(lesson=lesson(markdown, "A long lesson"))
    sections = re.findall(r"^## .+$", markdown, flags=re.MULTILINE)
    assert re.findall(r"^## .+$", note.summary_markdown, flags=re.MULTILINE) == sections


@pytest.mark.parametrize("markdown", ["# Only a title\n", "a" * 20_000])
async def test_a_lesson_without_sentences_is_unsummarisable(markdown: str) -> None:
    with pytest.raises(Unsummarisable):
        await LocalProvider(dimensions=64).generate_notes(lesson=lesson(markdown))


async def test_headings_stay_as_written_and_tables_are_not_prose() -> None:
    markdown = (
        "# Using `print`\n\n"
        "The print function writes its arguments to standard output. It separates them "
        "with spaces. It ends the line with a newline unless told otherwise.\n\n"
        "| argument | meaning |\n|---|---|\n| sep | what goes between the values |\n"
    )
    note = await LocalProvider(dimensions=64).generate_notes(lesson=lesson(markdown, "print"))
    assert note.summary_markdown.startswith("# Using `print`\n\n")
    assert "|" not in note.summary_markdown
    assert all("|" not in concept.definition for concept in note.key_concepts)


def test_the_app_starts_without_importing_the_local_provider() -> None:
    # scikit-learn and SciPy take seconds to import: the service's start must not wait.
    script = (
        "import sys;"
        "from edvent_ai_notes.config import Settings;"
        "from edvent_ai_notes.main import create_app;"
        "app = create_app(Settings(provider='local'));"
        "assert app.state.ai_notes.provider.name == 'local';"
        "print(sorted(m for m in ('sklearn', 'scipy', 'networkx') if m in sys.modules))"
    )
    env = {k: v for k, v in os.environ.items() if "OPENAI" not in k}
    ran = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, env=env
    )
    assert ran.stdout.strip() == "[]"


async def test_the_lazily_imported_local_provider_embeds_and_writes_as_the_local_one() -> None:
    lazy = build_provider(Settings(provider="local"))
    local = LocalProvider(dimensions=EMBEDDING_DIMENSIONS)
    texts = ["heat engines turn heat into work", "refraction"]
    assert await lazy.embed(texts) == await local.embed(texts)
    source = lesson(LESSON)
    assert await lazy.generate_notes(lesson=source) == await local.generate_notes(lesson=source)
    await lazy.close()
