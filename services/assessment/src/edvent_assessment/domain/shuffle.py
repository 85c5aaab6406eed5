"""Each attempt's own question and option order, drawn from a seed stored with it. No I/O.

The order is kept in the attempt's snapshot (`answer_sheet` lists the questions as
served, each with its options as shown), and the seed in `exam_attempts.shuffle_seed`,
so the draw can be reproduced. Scoring and analytics read question and option ids,
never positions, so the order changes nothing but what the student sees.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence

from edvent_assessment.domain.sheets import SheetItem


def new_seed() -> int:
    """A fresh seed that fits PostgreSQL's bigint."""
    return secrets.randbits(63)


def shuffle_options(item: SheetItem, *, seed: int) -> SheetItem:
    """The item with its options in the attempt's order for it: seeded by the attempt's
    seed and the question, so an adaptive attempt draws the same order whenever it is
    served."""
    options = list(item.options)
    random.Random(f"{seed}:{item.question_id}").shuffle(options)  # noqa: S311 - an order, not a secret
    return item.model_copy(update={"options": options})


def arrange(
    sheet: Sequence[SheetItem], *, seed: int, questions: bool, options: bool
) -> list[SheetItem]:
    """The snapshot in the attempt's order: questions shuffled when `questions`, each
    question's options when `options`; otherwise as given."""
    items = list(sheet)
    if questions:
        random.Random(seed).shuffle(items)  # noqa: S311 - an order, not a secret
    if options:
        items = [shuffle_options(item, seed=seed) for item in items]
    return items
