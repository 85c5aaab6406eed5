"""Extractive study notes: the lesson's own most central sentences, section by section.

1. markdown-it-py parses the body into sections (one per heading) of prose blocks and
   code blocks; prose is cut into sentences by segtok.
2. TextRank: every sentence is a node, edges weigh the TF-IDF cosine similarity of
   their stems (scikit-learn), and networkx's PageRank scores how central each is.
3. The summary keeps every heading that has text under it, with that section's best
   sentences (one in four, one to five) in reading order, and its first short code block verbatim.
4. Key concepts: TextRank over words (co-occurrence graph, PageRank); the best phrases
   of one to three words that recur (or name a heading) become concepts, and each is
   defined by the sentence that explains it best ("X is ...", "called X", else the most
   central sentence that uses it), word for word from the lesson.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
from markdown_it import MarkdownIt
from markdown_it.token import Token
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from edvent_ai_notes.adapters.providers import Unsummarisable
from edvent_ai_notes.adapters.providers.local.embedding import zipf
from edvent_ai_notes.adapters.providers.local.text import (
    STOP_WORDS,
    content_stems,
    sentences,
    stem,
)
from edvent_ai_notes.domain.notes import GeneratedNote, KeyConcept, LessonSource

MODEL = "local-extractive-v1"
NEIGHBOURS = 10  # edges kept per sentence in the TextRank graph


@dataclass(frozen=True, slots=True)
class NoteLimits:
    sentences_per_section: int = 5
    summary_sentences: int = 40  # over the whole summary
    code_lines: int = 15  # a section's first code block is kept if it is this short
    concepts: int = 10
    sentence_chars: int = 400  # longer sentences are neither summary nor definition
    concept_words: int = 3


@dataclass(slots=True)
class _Sentence:
    text: str  # as written (inline Markdown kept), whitespace collapsed
    plain: str  # without inline Markdown, for scoring
    section: int
    lead: bool  # the first sentence of its section
    score: float = 0.0


@dataclass(slots=True)
class _Section:
    level: int  # heading level, 0 for text before the first heading
    heading: str  # as written (inline Markdown kept)
    parent: int | None
    sentences: list[int] = field(default_factory=list)
    code: list[str] = field(default_factory=list)  # fenced, verbatim


_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MARKUP = re.compile(r"[*_`~]+|<[^>]+>")
_TOKEN = re.compile(r"[^\W_]+(?:['\u2019-][^\W_]+)*|[^\w\s]")
# Verbs that follow a term its sentence explains, and words that precede a named term.
_DEFINING = frozenset(
    {"is", "are", "was", "were", "refers", "means", "describes", "defines", "denotes"}
    | {"represents", "consists", "states", "says"}
)
_NAMING = frozenset({"called", "named", "termed", "known"})
_MD = MarkdownIt("commonmark").enable("table")


def _plain(markdown_inline: str) -> str:
    return " ".join(_MARKUP.sub("", _LINK.sub(r"\1", markdown_inline)).split())


def _fence(token: Token) -> str:
    longest = max((len(run) for run in re.findall(r"`+", token.content)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{token.info}\n{token.content}{fence}"


def _parse(markdown: str, title: str) -> tuple[list[_Section], list[_Sentence]]:
    sections = [_Section(level=0, heading=title, parent=None)]
    found: list[_Sentence] = []
    tokens = _MD.parse(markdown)
    heading_level: int | None = None
    in_table = False
    for token in tokens:
        if token.type in ("table_open", "table_close"):
            in_table = token.type == "table_open"  # cells are not sentences
        elif in_table:
            continue
        elif token.type == "heading_open":
            heading_level = int(token.tag[1])
        elif token.type == "inline" and heading_level is not None:
            parent: int | None = len(sections) - 1
            while parent is not None and sections[parent].level >= heading_level:
                parent = sections[parent].parent
            sections.append(_Section(heading_level, token.content, parent))
            heading_level = None
        elif token.type == "inline":
            current = len(sections) - 1
            for text in sentences(token.content):
                section = sections[current]
                section.sentences.append(len(found))
                found.append(_Sentence(text, _plain(text), current, not section.sentences[:-1]))
        elif token.type in ("fence", "code_block"):
            sections[-1].code.append(_fence(token))
    return sections, found


def _pagerank(graph: nx.Graph) -> dict[object, float]:
    try:
        ranks: dict[object, float] = nx.pagerank(graph, weight="weight", max_iter=200)
    except nx.PowerIterationFailedConvergence:
        ranks = {node: float(degree) for node, degree in graph.degree(weight="weight")}
    return ranks


def _rank_sentences(found: list[_Sentence]) -> None:
    if len(found) < 2:
        for sentence in found:
            sentence.score = 1.0
        return
    try:
        tfidf = TfidfVectorizer(analyzer=content_stems).fit_transform([s.plain for s in found])
    except ValueError:  # no words at all
        return
    similarity = (tfidf @ tfidf.T).toarray()
    np.fill_diagonal(similarity, 0.0)
    # Each sentence keeps its NEIGHBOURS most similar ones: a sparse graph, so a long
    # lesson costs O(n) edges rather than O(n²).
    if len(found) > NEIGHBOURS:
        cut = np.argpartition(-similarity, NEIGHBOURS, axis=1)[:, NEIGHBOURS:]
        np.put_along_axis(similarity, cut, 0.0, axis=1)
        similarity = np.maximum(similarity, similarity.T)
    graph = nx.from_scipy_sparse_array(sparse.csr_array(similarity))
    graph.add_nodes_from(range(len(found)))
    ranks = _pagerank(graph)
    top = max(ranks.values()) or 1.0
    for index, sentence in enumerate(found):
        rank = ranks.get(index, 0.0) / top
        # Lessons state a section's subject first: a small lead bonus.
        sentence.score = float(rank) * (1.4 if sentence.lead else 1.0)


def _usable(sentence: _Sentence, limits: NoteLimits) -> bool:
    return len(sentence.plain.split()) >= 3 and len(sentence.text) <= limits.sentence_chars


def _summary(sections: list[_Section], found: list[_Sentence], limits: NoteLimits) -> str:
    chosen: dict[int, list[int]] = {}
    for index, section in enumerate(sections):
        candidates = [i for i in section.sentences if _usable(found[i], limits)]
        # One sentence in four, at least one, at most the limit: short sections stay short.
        wanted = min(limits.sentences_per_section, max(1, math.ceil(len(candidates) / 4)))
        best = sorted(candidates, key=lambda i: -found[i].score)
        picked: list[int] = []
        for i in best:
            if len(picked) == wanted:
                break
            words = set(content_stems(found[i].plain))
            # Skip near-repeats of a sentence already picked for this section.
            if any(_overlap(words, set(content_stems(found[j].plain))) > 0.7 for j in picked):
                continue
            picked.append(i)
        if picked:
            chosen[index] = picked
    # Over budget: drop the weakest sentences that are not a section's best one.
    extra = sorted(
        (i for picked in chosen.values() for i in picked[1:]), key=lambda i: found[i].score
    )
    total = sum(len(p) for p in chosen.values())
    for i in extra[: max(0, total - limits.summary_sentences)]:
        chosen[found[i].section].remove(i)

    shown = set()
    for index, section in enumerate(sections):
        code = [c for c in section.code[:1] if c.count("\n") - 1 <= limits.code_lines]
        if index in chosen or code:
            parent: int | None = index
            while parent is not None:
                shown.add(parent)
                parent = sections[parent].parent
    parts: list[str] = []
    for index, section in enumerate(sections):
        if index not in shown:
            continue
        if section.level:
            parts.append(f"{'#' * section.level} {section.heading}")
        if index in chosen:
            parts.append(" ".join(found[i].text for i in sorted(chosen[index])))
        parts.extend(c for c in section.code[:1] if c.count("\n") - 1 <= limits.code_lines)
    return "\n\n".join(parts) + "\n"


def _overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / max(1, min(len(a), len(b)))


@dataclass(slots=True)
class _Candidate:
    stems: tuple[str, ...]
    forms: Counter[str] = field(default_factory=Counter)
    sentences: list[int] = field(default_factory=list)
    score: float = 0.0


def _runs(plain: str) -> Iterable[list[str]]:
    """Maximal runs of content words, broken by stop words, numbers and punctuation."""
    run: list[str] = []
    for token in _TOKEN.findall(plain):
        lowered = token.casefold()
        if token[0].isalpha() and len(token) > 1 and lowered not in STOP_WORDS:
            run.append(token)
        else:
            if run:
                yield run
            run = []
    if run:
        yield run


def _key_concepts(
    sections: list[_Section], found: list[_Sentence], limits: NoteLimits
) -> list[KeyConcept]:
    candidates: dict[tuple[str, ...], _Candidate] = {}
    graph: nx.Graph = nx.Graph()
    for index, sentence in enumerate(found):
        for run in _runs(sentence.plain):
            stems = [stem(w.casefold()) for w in run]
            for a, b in itertools.pairwise(stems):
                if a != b:
                    previous = graph.get_edge_data(a, b, {"weight": 0.0})["weight"]
                    graph.add_edge(a, b, weight=previous + 1.0)
            for s in stems:
                graph.add_node(s)
            for n in range(1, limits.concept_words + 1):
                for start in range(len(run) - n + 1):
                    key = tuple(stems[start : start + n])
                    candidate = candidates.setdefault(key, _Candidate(key))
                    candidate.forms[" ".join(run[start : start + n])] += 1
                    if not candidate.sentences or candidate.sentences[-1] != index:
                        candidate.sentences.append(index)
    if not candidates:
        return []
    ranks = _pagerank(graph)
    top = max(ranks.values(), default=1.0) or 1.0
    heading_stems = {
        tuple(stem(w.casefold()) for w in run)
        for section in sections
        for run in _runs(_plain(section.heading))
    }
    for key, candidate in candidates.items():
        frequency = len(candidate.sentences)
        in_heading = key in heading_stems
        if frequency < 2 and not in_heading:
            continue
        if len(key) == 1:
            # A lone everyday word ("time", "way") is not a concept.
            words = [form.casefold() for form in candidate.forms]
            if max(zipf(w) for w in words) > 4.5:
                continue
        mean_rank = sum(ranks.get(s, 0.0) for s in key) / len(key) / top
        candidate.score = (
            mean_rank
            * math.log1p(frequency)
            * (1.5 if in_heading else 1.0)
            * (1 + 0.3 * (len(key) - 1))
        )
    ordered = sorted(
        (c for c in candidates.values() if c.score > 0), key=lambda c: (-c.score, c.stems)
    )
    concepts: list[KeyConcept] = []
    taken: list[set[str]] = []
    used: set[int] = set()
    for candidate in ordered:
        if len(concepts) == limits.concepts:
            break
        stem_set = set(candidate.stems)
        if any(stem_set <= other or other <= stem_set for other in taken):
            continue
        name = candidate.forms.most_common(1)[0][0]
        definition = _definition(candidate, name, found, used, limits)
        if definition is None:
            continue
        used.add(definition)
        taken.append(stem_set)
        concepts.append(KeyConcept(name=name, definition=found[definition].text))
    return concepts


def _definition(
    candidate: _Candidate,
    name: str,
    found: list[_Sentence],
    used: set[int],
    limits: NoteLimits,
) -> int | None:
    best: tuple[float, int] | None = None
    lowered = name.casefold()
    for index in candidate.sentences:
        sentence = found[index]
        if not _usable(sentence, limits):
            continue
        text = " ".join(t.casefold() for t in _TOKEN.findall(sentence.plain))
        position = text.find(lowered)
        score = sentence.score
        if position >= 0:
            before = text[:position].split()
            after = text[position + len(lowered) :].split()[:4]
            subject = len([w for w in before if w not in ("a", "an", "the")]) == 0
            if any(word in _DEFINING for word in after):
                # "Entropy is ...", "The second law of thermodynamics states ..."
                score += 3.0 if subject else 1.0 if len(before) <= 4 else 0.0
            if any(word in _NAMING or word == "as" for word in before[-2:]):
                score += 1.5
        if index in used:
            score -= 1.0
        score -= 0.002 * index  # earlier wins a tie: lessons define before they use
        if best is None or score > best[0]:
            best = (score, index)
    return None if best is None else best[1]


def write_notes(lesson: LessonSource, limits: NoteLimits) -> GeneratedNote:
    markdown = lesson.markdown
    if not markdown.strip():
        markdown = "\n\n".join(chunk.text for chunk in lesson.chunks)
    sections, found = _parse(markdown, lesson.title)
    if not found and not any(section.code for section in sections):
        raise Unsummarisable("the lesson has no text to summarise")
    _rank_sentences(found)
    concepts = _key_concepts(sections, found, limits)
    defining = {concept.definition for concept in concepts}
    for sentence in found:
        if sentence.text in defining:
            sentence.score *= 1.3  # the summary should carry the definitions too
    summary = _summary(sections, found, limits)
    if not summary.strip():
        # Text without sentences (one long run of a letter, say): nothing to extract.
        raise Unsummarisable("the lesson has no sentences to summarise")
    return GeneratedNote(
        summary_markdown=summary,
        key_concepts=tuple(concepts),
        model=MODEL,
    )
