"""Backward compatibility of event schemas within one major version.

Policy (see CONTRACT.md, "Events on Kafka"): while the `.vN` suffix of a ce_type stays
the same, a newer schema may only add optional properties, add enum values, and change
descriptions or examples. It may not remove a property, change a property's type
(`type`, `format`, `$ref` target, `enum`, `const`, `anyOf`/`oneOf` variants), make a
property required that was not, or make a required property optional (readers may rely
on it being present). Anything else needs a new major version: a new ce_type
`...vN+1` with its own schema file, while the old file stays as the record of vN.

Why these rules: data teams read history as well as new events, with readers written
against any schema of the major version. Removing or retyping a field breaks old
readers of new data; a new required field breaks new readers of old data. Readers must
already tolerate unknown fields and unknown enum values, which is what makes additions
safe.

These are pure functions over JSON Schema dicts (as produced by `model_json_schema`), so
the policy is tested on small hand-made schemas.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

Schema = Mapping[str, Any]

_CE_TYPE = re.compile(r"^(?P<stem>.+)\.v(?P<major>\d+)$")
# Keys of the Edvent extension that bind a schema to its wire identity.
_IDENTITY_KEYS = ("x-topic", "x-key", "x-source")
_UNION_KEYS = ("anyOf", "oneOf")


def split_ce_type(ce_type: str) -> tuple[str, int]:
    """`edvent.content.lesson.published.v2` -> (`edvent.content.lesson.published`, 2)."""
    match = _CE_TYPE.match(ce_type)
    if match is None:
        raise ValueError(f"ce_type {ce_type!r} does not end in a major version like '.v1'")
    return match["stem"], int(match["major"])


def incompatibilities(old_schema: Schema, new_schema: Schema) -> list[str]:
    """What in `new_schema` breaks readers of `old_schema` (same major version).

    An empty list means compatible. Each entry names the property path, e.g.
    `key_concepts[].name: property removed`.
    """
    problems: list[str] = []
    for key in _IDENTITY_KEYS:
        if key in old_schema and new_schema.get(key) != old_schema[key]:
            problems.append(f"{key} changed from {old_schema[key]!r} to {new_schema.get(key)!r}")
    _Comparison(old_schema, new_schema, problems).compare(old_schema, new_schema, "", set())
    return problems


def catalog_incompatibilities(
    baseline: Mapping[str, Schema], current: Mapping[str, Schema]
) -> list[str]:
    """Compare every baseline schema (by ce_type) with the current schema of that type.

    A baseline type missing from `current` is fine only when a higher major version of
    it exists (the old version is retired, its file kept); otherwise data teams would
    lose an event type without notice.
    """
    problems: list[str] = []
    for ce_type in sorted(baseline):
        new = current.get(ce_type)
        if new is not None:
            problems += [f"{ce_type}: {p}" for p in incompatibilities(baseline[ce_type], new)]
            continue
        stem, major = split_ce_type(ce_type)
        successors = [
            t
            for t in current
            if _CE_TYPE.match(t) and split_ce_type(t)[0] == stem and split_ce_type(t)[1] > major
        ]
        if not successors:
            problems.append(
                f"{ce_type}: event type no longer produced and no higher major version exists"
            )
    return problems


class _Comparison:
    """Walks an old and a new schema side by side, resolving each one's local `$ref`s."""

    def __init__(self, old_root: Schema, new_root: Schema, problems: list[str]) -> None:
        self.old_root = old_root
        self.new_root = new_root
        self.problems = problems

    def compare(self, old: Schema, new: Schema, path: str, seen: set[tuple[str, str]]) -> None:
        refs = (str(old.get("$ref", "")), str(new.get("$ref", "")))
        if refs != ("", ""):
            # Recursive models refer to themselves; one visit per pair of targets is enough.
            if refs in seen:
                return
            seen = seen | {refs}
        old = _unwrap(_resolve(self.old_root, old))
        new = _unwrap(_resolve(self.new_root, new))
        old_variants, new_variants = _variants(old), _variants(new)
        if len(old_variants) == 1 and len(new_variants) == 1:
            self._compare_plain(old_variants[0], new_variants[0], path, seen)
            return
        # A union: each old variant must still be accepted and no variant may appear
        # (a new variant is a value old readers cannot handle, e.g. a null).
        matched_new: set[int] = set()
        for old_variant in old_variants:
            index = self._find_match(old_variant, new_variants, seen)
            if index is None:
                self._report(path, f"type changed: variant {_describe(old_variant)} removed")
            else:
                matched_new.add(index)
        for index, new_variant in enumerate(new_variants):
            if index not in matched_new:
                self._report(path, f"type changed: variant {_describe(new_variant)} added")

    def _find_match(
        self, wanted: Schema, candidates: list[Schema], seen: set[tuple[str, str]]
    ) -> int | None:
        for index, candidate in enumerate(candidates):
            trial: list[str] = []
            _Comparison(self.old_root, self.new_root, trial).compare(wanted, candidate, "", seen)
            if not trial:
                return index
        return None

    def _compare_plain(
        self, old: Schema, new: Schema, path: str, seen: set[tuple[str, str]]
    ) -> None:
        old_types, new_types = _types(old), _types(new)
        if old_types != new_types:
            self._report(path, f"type changed from {_fmt(old_types)} to {_fmt(new_types)}")
            return
        for key in ("format", "const"):
            if old.get(key) != new.get(key):
                self._report(path, f"{key} changed from {old.get(key)!r} to {new.get(key)!r}")
        if "enum" in new:
            if "enum" not in old:
                self._report(path, "enum constraint added")
            else:
                removed = [v for v in old["enum"] if v not in new["enum"]]
                if removed:
                    self._report(path, f"enum values removed: {removed!r}")
        self._compare_object(old, new, path, seen)
        self._compare_array(old, new, path, seen)

    def _compare_object(
        self, old: Schema, new: Schema, path: str, seen: set[tuple[str, str]]
    ) -> None:
        old_props: Mapping[str, Schema] = old.get("properties", {})
        new_props: Mapping[str, Schema] = new.get("properties", {})
        for name, old_prop in old_props.items():
            if name not in new_props:
                self._report(_join(path, name), "property removed")
            else:
                self.compare(old_prop, new_props[name], _join(path, name), seen)
        old_required, new_required = set(old.get("required", ())), set(new.get("required", ()))
        for name in sorted(new_required - old_required):
            what = (
                "optional property made required" if name in old_props else "new required property"
            )
            self._report(_join(path, name), what)
        # Readers may rely on a required property being present: dropping the guarantee
        # is a removal for them (data of the new schema may lack it).
        for name in sorted((old_required - new_required) & set(new_props)):
            self._report(_join(path, name), "required property made optional")
        old_extra, new_extra = old.get("additionalProperties"), new.get("additionalProperties")
        if isinstance(old_extra, Mapping) and isinstance(new_extra, Mapping):
            self.compare(old_extra, new_extra, f"{path}{{*}}", seen)

    def _compare_array(
        self, old: Schema, new: Schema, path: str, seen: set[tuple[str, str]]
    ) -> None:
        old_items, new_items = old.get("items"), new.get("items")
        if isinstance(old_items, Mapping) and isinstance(new_items, Mapping):
            self.compare(old_items, new_items, f"{path}[]", seen)
        old_prefix, new_prefix = old.get("prefixItems", []), new.get("prefixItems", [])
        for index, (old_item, new_item) in enumerate(zip(old_prefix, new_prefix, strict=False)):
            self.compare(old_item, new_item, f"{path}[{index}]", seen)
        if len(new_prefix) != len(old_prefix):
            self._report(path, f"tuple length changed from {len(old_prefix)} to {len(new_prefix)}")

    def _report(self, path: str, message: str) -> None:
        self.problems.append(f"{path or '(root)'}: {message}")


def _resolve(root: Schema, node: Schema) -> Schema:
    """Follow local `$ref`s; keywords next to a `$ref` win over the target's."""
    hops = 0
    while "$ref" in node:
        ref = str(node["$ref"])
        if not ref.startswith("#/"):
            raise ValueError(f"only local $ref is supported, got {ref!r}")
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        node = {**target, **siblings}
        hops += 1
        if hops > 64:
            raise ValueError(f"$ref chain too long at {ref!r}")
    return node


def _unwrap(node: Schema) -> Schema:
    """A one-element `allOf` (how some generators attach a description to a `$ref`)."""
    all_of = node.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1:
        rest = {k: v for k, v in node.items() if k != "allOf"}
        return {**all_of[0], **rest}
    return node


def _variants(node: Schema) -> list[Schema]:
    for key in _UNION_KEYS:
        if key in node:
            rest = {k: v for k, v in node.items() if k not in _UNION_KEYS}
            return [{**rest, **variant} for variant in node[key]]
    return [node]


def _types(node: Schema) -> frozenset[str]:
    declared = node.get("type")
    if declared is None:
        return frozenset()
    return frozenset([declared] if isinstance(declared, str) else declared)


def _fmt(types: frozenset[str]) -> str:
    return "|".join(sorted(types)) or "any"


def _describe(node: Schema) -> str:
    parts = [_fmt(_types(node))]
    for key in ("format", "const", "$ref"):
        if key in node:
            parts.append(f"{key}={node[key]!r}")
    if "properties" in node:
        parts.append("object{" + ",".join(sorted(node["properties"])) + "}")
    return " ".join(parts)


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
