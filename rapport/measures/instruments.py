"""Instruments as data: the YAML files under ``instruments/``, validated into frozen dataclasses.

``load(key)`` and ``load_all()`` read the shipped files and, when the Django app has configured one,
a practice's own directory (``RAPPORT_EXTRA_INSTRUMENTS_DIR``). Every file is checked against the
schema below, written out in plain Python: an unknown key is an error (it is usually a typo), every
problem names the file, the field path and why, and bands must cover the whole score range with no
gap or overlap. The YAML format is documented field by field in docs/measures.md.

Pure: no Django import. The facts in the files come from MEASURES.md, each with its evidence tag.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

BUILTIN_DIR = Path(__file__).resolve().parent / "instruments"

EVIDENCE = ("C", "S", "U", "design")
AUTHORSHIP = ("published", "project")
ITEM_KINDS = ("choice", "text")
MISSING_RULES = ("all_required", "prorate")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_LOINC = re.compile(r"^(LA)?\d{1,6}-\d$")


# --- the model -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Citation:
    text: str
    evidence: str  # C, S, U or design: see MEASURES.md "How to read the evidence tags"
    doi: str | None = None
    pmid: str | None = None
    pmcid: str | None = None


@dataclass(frozen=True)
class Licence:
    statement: str
    attribution: str | None  # the line shown with the instrument, when the owner asks for one
    source: str
    evidence: str


@dataclass(frozen=True)
class Option:
    value: int
    label: str
    loinc: str | None = None


@dataclass(frozen=True)
class Item:
    id: str
    number: str
    kind: str  # "choice" or "text"
    scored: bool
    text: str | None  # None: wording not shipped (data collection only)
    topic: str | None = None
    reverse: bool = False
    options: tuple[Option, ...] = ()
    loinc: str | None = None

    @functools.cached_property
    def values(self) -> tuple[int, ...]:
        return tuple(option.value for option in self.options)

    @functools.cached_property
    def min_value(self) -> int:
        return min(self.values)

    @functools.cached_property
    def max_value(self) -> int:
        return max(self.values)


@dataclass(frozen=True)
class Band:
    key: str
    label: str
    min: int
    max: int

    def contains(self, score: int) -> bool:
        return self.min <= score <= self.max


@dataclass(frozen=True)
class Bands:
    ranges: tuple[Band, ...]
    citation: Citation

    def find(self, score: int) -> Band | None:
        return next((band for band in self.ranges if band.contains(score)), None)


@dataclass(frozen=True)
class Subscale:
    key: str
    name: str
    items: tuple[str, ...]
    multiplier: int = 1
    bands: Bands | None = None


@dataclass(frozen=True)
class MissingRule:
    rule: str  # "all_required" or "prorate"
    citation: Citation
    max_missing: int = 0
    items: tuple[str, ...] = ()  # the items that may be prorated (prorate only)
    rounding: str = "half_up"


@dataclass(frozen=True)
class Scoring:
    method: str
    multiplier: int
    missing: MissingRule
    subscales: tuple[Subscale, ...] = ()


@dataclass(frozen=True)
class Cutoff:
    key: str
    label: str
    citation: Citation
    at_least: int | None = None
    at_most: int | None = None

    def met(self, total: int) -> bool:
        if self.at_least is not None:
            return total >= self.at_least
        assert self.at_most is not None
        return total <= self.at_most


@dataclass(frozen=True)
class ReliableChangeRule:
    points: int
    citation: Citation


@dataclass(frozen=True)
class Reliability:
    value: float
    kind: str
    citation: Citation


@dataclass(frozen=True)
class RiskItem:
    item: str
    at_least: int
    label: str
    citation: Citation


@dataclass(frozen=True)
class Flag:
    key: str
    label: str
    items: tuple[str, ...]
    values: tuple[int, ...]
    citation: Citation


@dataclass(frozen=True)
class Loinc:
    panel: str | None = None
    total: str | None = None


@dataclass(frozen=True, repr=False)
class Instrument:
    key: str
    name: str
    abbreviation: str | None
    version: str
    authorship: str  # "published" or "project"
    validated: bool
    higher_is_better: bool
    citations: tuple[Citation, ...]
    licence: Licence
    stem: str | None
    items: tuple[Item, ...]
    scoring: Scoring
    bands: Bands | None = None
    cutoffs: tuple[Cutoff, ...] = ()
    caseness: str | None = None  # key of the cut-off that marks the clinical range
    reliable_change: ReliableChangeRule | None = None
    reliability: Reliability | None = None
    risk: tuple[RiskItem, ...] = ()
    flags: tuple[Flag, ...] = ()
    loinc: Loinc = field(default_factory=Loinc)
    source: str = ""  # the file it was read from

    def __repr__(self) -> str:
        return f"<Instrument {self.key} from {self.source}>"

    @functools.cached_property
    def _by_id(self) -> dict[str, Item]:
        return {item.id: item for item in self.items}

    def item(self, item_id: str) -> Item:
        return self._by_id[item_id]

    @functools.cached_property
    def scored_items(self) -> tuple[Item, ...]:
        return tuple(item for item in self.items if item.scored)

    @functools.cached_property
    def raw_range(self) -> tuple[int, int]:
        scored = self.scored_items
        return sum(item.min_value for item in scored), sum(item.max_value for item in scored)

    @functools.cached_property
    def total_range(self) -> tuple[int, int]:
        low, high = self.raw_range
        return low * self.scoring.multiplier, high * self.scoring.multiplier

    @property
    def data_collection_only(self) -> bool:
        """True when some scored item ships without its wording: staff enter answers from a licensed copy."""
        return any(item.text is None for item in self.items)

    @property
    def caseness_cutoff(self) -> Cutoff | None:
        return next((cutoff for cutoff in self.cutoffs if cutoff.key == self.caseness), None)


# --- errors ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    file: str
    path: str
    why: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.why}" if self.path else f"{self.file}: {self.why}"


class InstrumentError(Exception):
    """One or more instrument files are invalid; ``problems`` names each file, field and reason."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(problem) for problem in self.problems))


class UnknownInstrument(KeyError):
    pass


# --- reading YAML strictly -------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys without a word; a repeated key is an error here."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"repeated key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)

_MISSING = object()


class _Reader:
    """Walks one parsed file, collecting every problem with its field path instead of stopping at the first."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def fail(self, path: str, why: str) -> None:
        self.problems.append(Problem(self.file, path, why))

    def mapping(self, value: Any, path: str, required: Iterable[str], optional: Iterable[str] = ()) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(path, f"expected a mapping, got {_describe(value)}")
            return {}
        allowed = set(required) | set(optional)
        for key in value:
            if key not in allowed:
                self.fail(_join(path, str(key)), f"unknown field (allowed here: {', '.join(sorted(allowed))})")
        for key in required:
            if key not in value:
                self.fail(_join(path, key), "required field is missing")
        return value

    def get(self, data: dict[str, Any], path: str, key: str, kind: str, default: Any = _MISSING, choices: Iterable[str] = ()) -> Any:
        value = data.get(key, _MISSING)
        where = _join(path, key)
        if value is _MISSING:
            return None if default is _MISSING else default
        return self.check(value, where, kind, choices)

    def check(self, value: Any, where: str, kind: str, choices: Iterable[str] = ()) -> Any:
        nullable = kind.endswith("?")
        kind = kind.rstrip("?")
        if value is None:
            if not nullable:
                self.fail(where, f"expected {_KIND_NAMES[kind]}, got nothing (null)")
            return None
        ok = {
            "str": isinstance(value, str) and value.strip() != "",
            "int": isinstance(value, int) and not isinstance(value, bool),
            "number": isinstance(value, int | float) and not isinstance(value, bool),
            "bool": isinstance(value, bool),
            "list": isinstance(value, list),
        }[kind]
        if not ok:
            if kind == "str" and isinstance(value, str):
                self.fail(where, "expected non-empty text, got an empty string")
            else:
                self.fail(where, f"expected {_KIND_NAMES[kind]}, got {_describe(value)}")
            return None
        options = tuple(choices)
        if options and value not in options:
            self.fail(where, f"expected one of {', '.join(options)}, got {value!r}")
            return None
        return value


_KIND_NAMES = {"str": "text", "int": "an integer", "number": "a number", "bool": "true or false", "list": "a list"}


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean; quote it if it is text)"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return f"{value!r} ({type(value).__name__})"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


# --- parsing each section --------------------------------------------------------------------------

_TOP_REQUIRED = ("key", "name", "version", "authorship", "validated", "higher_is_better", "citations", "licence", "items", "scoring")
_TOP_OPTIONAL = (
    "abbreviation",
    "stem",
    "option_sets",
    "bands",
    "cutoffs",
    "caseness",
    "reliable_change",
    "reliability",
    "risk",
    "flags",
    "loinc",
)


def _citation(r: _Reader, value: Any, path: str) -> Citation:
    data = r.mapping(value, path, ("text", "evidence"), ("doi", "pmid", "pmcid"))
    return Citation(
        text=r.get(data, path, "text", "str") or "",
        evidence=r.get(data, path, "evidence", "str", choices=EVIDENCE) or "U",
        doi=r.get(data, path, "doi", "str?"),
        pmid=r.get(data, path, "pmid", "str?"),
        pmcid=r.get(data, path, "pmcid", "str?"),
    )


def _options(r: _Reader, value: Any, path: str) -> tuple[Option, ...]:
    if r.check(value, path, "list") is None:
        return ()
    if len(value) < 2:
        r.fail(path, f"expected at least two options, got {len(value)}")
    options = []
    valid_values: list[int] = []
    for index, raw in enumerate(value):
        where = f"{path}[{index}]"
        data = r.mapping(raw, where, ("value", "label"), ("loinc",))
        number = r.get(data, where, "value", "int")
        if number is not None:
            valid_values.append(number)
        loinc = r.get(data, where, "loinc", "str?")
        if loinc is not None and not _LOINC.match(loinc):
            r.fail(_join(where, "loinc"), f"expected a LOINC code such as LA6568-5, got {loinc!r}")
        options.append(Option(value=number if number is not None else 0, label=r.get(data, where, "label", "str") or "", loinc=loinc))
    if len(set(valid_values)) != len(valid_values):
        r.fail(path, f"option values must be distinct, got {valid_values}")
    return tuple(options)


def _items(r: _Reader, value: Any, option_sets: dict[str, tuple[Option, ...]]) -> tuple[Item, ...]:
    if r.check(value, "items", "list") is None:
        return ()
    if not value:
        r.fail("items", "expected at least one item")
    items: list[Item] = []
    for index, raw in enumerate(value):
        where = f"items[{index}]"
        data = r.mapping(raw, where, ("id", "number", "text"), ("kind", "scored", "reverse", "options", "loinc", "topic"))
        item_id = r.get(data, where, "id", "str") or f"?{index}"
        if not item_id.startswith("?") and not _ID.match(item_id):
            r.fail(_join(where, "id"), f"expected lower-case letters, digits and underscores starting with a letter, got {item_id!r}")
        kind = r.get(data, where, "kind", "str", default="choice", choices=ITEM_KINDS) or "choice"
        scored = r.get(data, where, "scored", "bool", default=kind == "choice")
        reverse = r.get(data, where, "reverse", "bool", default=False)
        text = r.get(data, where, "text", "str?")
        topic = r.get(data, where, "topic", "str?")
        if text is None and topic is None and "text" in data:
            r.fail(_join(where, "text"), "an item without its wording needs a topic (what it asks about, in our own words)")
        options: tuple[Option, ...] = ()
        raw_options = data.get("options", _MISSING)
        if kind == "choice":
            if raw_options is _MISSING:
                r.fail(_join(where, "options"), "required for a choice item")
            elif isinstance(raw_options, str):
                if raw_options not in option_sets:
                    r.fail(
                        _join(where, "options"), f"unknown option set {raw_options!r} (defined: {', '.join(sorted(option_sets)) or 'none'})"
                    )
                else:
                    options = option_sets[raw_options]
            else:
                options = _options(r, raw_options, _join(where, "options"))
        else:
            if raw_options is not _MISSING:
                r.fail(_join(where, "options"), "a text item has no options")
            if scored:
                r.fail(_join(where, "scored"), "a free-text item cannot be scored")
            if reverse:
                r.fail(_join(where, "reverse"), "a free-text item cannot be reverse-scored")
        if reverse and not scored:
            r.fail(_join(where, "reverse"), "only a scored item can be reverse-scored")
        loinc = r.get(data, where, "loinc", "str?")
        if loinc is not None and not _LOINC.match(loinc):
            r.fail(_join(where, "loinc"), f"expected a LOINC code such as 44250-9, got {loinc!r}")
        items.append(
            Item(
                id=item_id,
                number=r.get(data, where, "number", "str") or "",
                kind=kind,
                scored=bool(scored),
                text=text,
                topic=topic,
                reverse=bool(reverse),
                options=options,
                loinc=loinc,
            )
        )
    seen: set[str] = set()
    for index, item in enumerate(items):
        if item.id in seen:
            r.fail(f"items[{index}].id", f"repeated item id {item.id!r}")
        seen.add(item.id)
    if items and not any(item.scored for item in items):
        r.fail("items", "at least one item must be scored")
    return tuple(items)


def _item_refs(r: _Reader, value: Any, path: str, items: Mapping[str, Item], *, scored: bool = True) -> tuple[str, ...]:
    if r.check(value, path, "list") is None:
        return ()
    refs = []
    for index, ref in enumerate(value):
        where = f"{path}[{index}]"
        if r.check(ref, where, "str") is None:
            continue
        if ref not in items:
            r.fail(where, f"unknown item id {ref!r}")
        elif scored and not items[ref].scored:
            r.fail(where, f"item {ref!r} is not scored")
        refs.append(ref)
    if len(set(refs)) != len(refs):
        r.fail(path, "an item is listed twice")
    return tuple(refs)


def _bands(r: _Reader, value: Any, path: str, score_range: tuple[int, int]) -> Bands:
    data = r.mapping(value, path, ("ranges", "citation"))
    citation = _citation(r, data.get("citation"), _join(path, "citation"))
    ranges: list[Band] = []
    raw_ranges = r.get(data, path, "ranges", "list") or []
    for index, raw in enumerate(raw_ranges):
        where = f"{path}.ranges[{index}]"
        band = r.mapping(raw, where, ("key", "label", "min", "max"))
        key = r.get(band, where, "key", "str") or ""
        if key and not _ID.match(key):
            r.fail(_join(where, "key"), f"expected a snake_case key, got {key!r}")
        low, high = r.get(band, where, "min", "int"), r.get(band, where, "max", "int")
        if low is not None and high is not None and low > high:
            r.fail(where, f"min {low} is above max {high}")
        ranges.append(Band(key=key, label=r.get(band, where, "label", "str") or "", min=low or 0, max=high or 0))
    if not r.problems:
        _check_coverage(r, ranges, f"{path}.ranges", score_range)
    return Bands(ranges=tuple(ranges), citation=citation)


def _check_coverage(r: _Reader, ranges: list[Band], path: str, score_range: tuple[int, int]) -> None:
    """Every possible score falls in exactly one band: sorted, they must start at the minimum, meet without gaps and end at the maximum."""
    low, high = score_range
    if not ranges:
        r.fail(path, "expected at least one band")
        return
    ordered = sorted(ranges, key=lambda band: band.min)
    if ordered != ranges:
        r.fail(path, "bands must be listed from the lowest score to the highest")
        return
    keys = [band.key for band in ranges]
    if len(set(keys)) != len(keys):
        r.fail(path, f"band keys must be distinct, got {keys}")
    if ordered[0].min != low:
        r.fail(f"{path}[0].min", f"the first band must start at the lowest possible score {low}, got {ordered[0].min}")
    for index in range(1, len(ordered)):
        before, band = ordered[index - 1], ordered[index]
        if band.min <= before.max:
            r.fail(f"{path}[{index}].min", f"overlaps the band before it ({before.key}: {before.min}-{before.max}), got {band.min}")
        elif band.min != before.max + 1:
            r.fail(
                f"{path}[{index}].min", f"leaves a gap after {before.key} (ends at {before.max}): expected {before.max + 1}, got {band.min}"
            )
    if ordered[-1].max != high:
        r.fail(f"{path}[{len(ordered) - 1}].max", f"the last band must end at the highest possible score {high}, got {ordered[-1].max}")


def _scoring(r: _Reader, value: Any, items: Mapping[str, Item]) -> Scoring:
    path = "scoring"
    data = r.mapping(value, path, ("method", "multiplier", "missing"), ("subscales",))
    method = r.get(data, path, "method", "str", choices=("sum",)) or "sum"
    multiplier = r.get(data, path, "multiplier", "int")
    if multiplier is not None and multiplier < 1:
        r.fail("scoring.multiplier", f"expected a positive integer, got {multiplier}")
    missing_path = "scoring.missing"
    raw = r.mapping(data.get("missing"), missing_path, ("rule", "citation"), ("max_missing", "items", "rounding"))
    rule = r.get(raw, missing_path, "rule", "str", choices=MISSING_RULES) or "all_required"
    max_missing, rounding = 0, "half_up"
    prorate_items: tuple[str, ...] = ()
    if rule == "prorate":
        for needed in ("max_missing", "items"):
            if needed not in raw:
                r.fail(_join(missing_path, needed), "required when the rule is prorate")
        max_missing = r.get(raw, missing_path, "max_missing", "int") or 0
        if "max_missing" in raw and max_missing < 1:
            r.fail(_join(missing_path, "max_missing"), f"expected at least 1, got {max_missing}")
        prorate_items = _item_refs(r, raw.get("items", []), _join(missing_path, "items"), items)
        if prorate_items and max_missing >= len(prorate_items):
            r.fail(
                _join(missing_path, "max_missing"),
                f"must be below the number of proratable items ({len(prorate_items)}), got {max_missing}",
            )
        rounding = r.get(raw, missing_path, "rounding", "str", default="half_up", choices=("half_up",)) or "half_up"
    else:
        for extra in ("max_missing", "items", "rounding"):
            if extra in raw:
                r.fail(_join(missing_path, extra), "only used when the rule is prorate")
    missing = MissingRule(
        rule=rule,
        citation=_citation(r, raw.get("citation"), _join(missing_path, "citation")),
        max_missing=max_missing,
        items=prorate_items,
        rounding=rounding,
    )
    subscales: list[Subscale] = []
    for index, raw_sub in enumerate(r.get(data, path, "subscales", "list", default=[]) or []):
        where = f"scoring.subscales[{index}]"
        sub = r.mapping(raw_sub, where, ("key", "name", "items"), ("multiplier", "bands"))
        key = r.get(sub, where, "key", "str") or ""
        if key and not _ID.match(key):
            r.fail(_join(where, "key"), f"expected a snake_case key, got {key!r}")
        refs = _item_refs(r, sub.get("items", []), _join(where, "items"), items)
        if "items" in sub and not refs:
            r.fail(_join(where, "items"), "expected at least one item")
        sub_multiplier = r.get(sub, where, "multiplier", "int", default=1) or 1
        if sub_multiplier < 1:
            r.fail(_join(where, "multiplier"), f"expected a positive integer, got {sub_multiplier}")
        bands = None
        if "bands" in sub and refs and all(ref in items for ref in refs):
            scored = [items[ref] for ref in refs]
            sub_range = (sum(i.min_value for i in scored) * sub_multiplier, sum(i.max_value for i in scored) * sub_multiplier)
            bands = _bands(r, sub["bands"], _join(where, "bands"), sub_range)
        subscales.append(Subscale(key=key, name=r.get(sub, where, "name", "str") or "", items=refs, multiplier=sub_multiplier, bands=bands))
    keys = [sub.key for sub in subscales]
    if len(set(keys)) != len(keys):
        r.fail("scoring.subscales", f"subscale keys must be distinct, got {keys}")
    return Scoring(method=method, multiplier=multiplier or 1, missing=missing, subscales=tuple(subscales))


def _cutoffs(r: _Reader, value: Any, score_range: tuple[int, int]) -> tuple[Cutoff, ...]:
    cutoffs = []
    for index, raw in enumerate(r.check(value, "cutoffs", "list") or []):
        where = f"cutoffs[{index}]"
        data = r.mapping(raw, where, ("key", "label", "citation"), ("at_least", "at_most"))
        at_least, at_most = r.get(data, where, "at_least", "int?"), r.get(data, where, "at_most", "int?")
        if (at_least is None) == (at_most is None):
            r.fail(where, "give exactly one of at_least or at_most")
        bound = at_least if at_least is not None else at_most
        if bound is not None and not score_range[0] <= bound <= score_range[1]:
            r.fail(where, f"the cut-off {bound} lies outside the score range {score_range[0]}-{score_range[1]}")
        cutoffs.append(
            Cutoff(
                key=r.get(data, where, "key", "str") or "",
                label=r.get(data, where, "label", "str") or "",
                citation=_citation(r, data.get("citation"), _join(where, "citation")),
                at_least=at_least,
                at_most=at_most,
            )
        )
    return tuple(cutoffs)


def _risk(r: _Reader, value: Any, items: Mapping[str, Item]) -> tuple[RiskItem, ...]:
    risks = []
    for index, raw in enumerate(r.check(value, "risk", "list") or []):
        where = f"risk[{index}]"
        data = r.mapping(raw, where, ("item", "at_least", "label", "citation"))
        ref = r.get(data, where, "item", "str") or ""
        at_least = r.get(data, where, "at_least", "int")
        if ref and ref not in items:
            r.fail(_join(where, "item"), f"unknown item id {ref!r}")
        elif ref and at_least is not None and at_least not in items[ref].values:
            r.fail(_join(where, "at_least"), f"expected one of the item's values {list(items[ref].values)}, got {at_least}")
        elif ref and at_least is not None and at_least == items[ref].min_value:
            r.fail(_join(where, "at_least"), f"{at_least} is the item's lowest answer, so the risk item would fire on every answer")
        risks.append(
            RiskItem(
                item=ref,
                at_least=at_least or 0,
                label=r.get(data, where, "label", "str") or "",
                citation=_citation(r, data.get("citation"), _join(where, "citation")),
            )
        )
    return tuple(risks)


def _flags(r: _Reader, value: Any, items: Mapping[str, Item]) -> tuple[Flag, ...]:
    flags = []
    for index, raw in enumerate(r.check(value, "flags", "list") or []):
        where = f"flags[{index}]"
        data = r.mapping(raw, where, ("key", "label", "items", "values", "citation"))
        refs = _item_refs(r, data.get("items", []), _join(where, "items"), items)
        values = []
        for position, number in enumerate(r.get(data, where, "values", "list") or []):
            if r.check(number, f"{where}.values[{position}]", "int") is not None:
                values.append(number)
        flags.append(
            Flag(
                key=r.get(data, where, "key", "str") or "",
                label=r.get(data, where, "label", "str") or "",
                items=refs,
                values=tuple(values),
                citation=_citation(r, data.get("citation"), _join(where, "citation")),
            )
        )
    return tuple(flags)


def parse(raw: Any, *, file: str, expected_key: str | None = None) -> Instrument:
    """Validate one parsed YAML document; raise InstrumentError naming every problem found."""
    r = _Reader(file)
    data = r.mapping(raw, "", _TOP_REQUIRED, _TOP_OPTIONAL)
    if not isinstance(raw, dict):
        raise InstrumentError(r.problems)
    key = r.get(data, "", "key", "str") or ""
    if key and not _ID.match(key):
        r.fail("key", f"expected lower-case letters, digits and underscores starting with a letter, got {key!r}")
    if key and expected_key is not None and key != expected_key:
        r.fail("key", f"must match the file name {expected_key!r}, got {key!r}")
    option_sets: dict[str, tuple[Option, ...]] = {}
    raw_sets = data.get("option_sets", {})
    if not isinstance(raw_sets, dict):
        r.fail("option_sets", f"expected a mapping of name to options, got {_describe(raw_sets)}")
    else:
        for name, options in raw_sets.items():
            option_sets[str(name)] = _options(r, options, f"option_sets.{name}")
    items = _items(r, data.get("items"), option_sets)
    by_id = {item.id: item for item in items}
    citations = tuple(_citation(r, value, f"citations[{index}]") for index, value in enumerate(r.get(data, "", "citations", "list") or []))
    if "citations" in data and not citations and isinstance(data["citations"], list):
        r.fail("citations", "expected at least one citation")
    licence_data = r.mapping(data.get("licence"), "licence", ("statement", "attribution", "source", "evidence"))
    licence = Licence(
        statement=r.get(licence_data, "licence", "statement", "str") or "",
        attribution=r.get(licence_data, "licence", "attribution", "str?"),
        source=r.get(licence_data, "licence", "source", "str") or "",
        evidence=r.get(licence_data, "licence", "evidence", "str", choices=EVIDENCE) or "U",
    )
    scoring = _scoring(r, data.get("scoring"), by_id)
    scored = [item for item in items if item.scored and item.options]
    raw_range = (sum(item.min_value for item in scored), sum(item.max_value for item in scored))
    total_range = (raw_range[0] * scoring.multiplier, raw_range[1] * scoring.multiplier)
    bands = _bands(r, data["bands"], "bands", total_range) if "bands" in data else None
    cutoffs = _cutoffs(r, data.get("cutoffs", []), total_range)
    caseness = r.get(data, "", "caseness", "str?")
    if caseness is not None and caseness not in {cutoff.key for cutoff in cutoffs}:
        r.fail("caseness", f"expected the key of one of the cut-offs, got {caseness!r}")
    reliable_change = None
    if "reliable_change" in data:
        rc = r.mapping(data["reliable_change"], "reliable_change", ("points", "citation"))
        points = r.get(rc, "reliable_change", "points", "int")
        if points is not None and points < 1:
            r.fail("reliable_change.points", f"expected a positive integer, got {points}")
        reliable_change = ReliableChangeRule(points=points or 1, citation=_citation(r, rc.get("citation"), "reliable_change.citation"))
    reliability = None
    if "reliability" in data:
        rel = r.mapping(data["reliability"], "reliability", ("value", "kind", "citation"))
        number = r.get(rel, "reliability", "value", "number")
        if number is not None and not 0 < number < 1:
            r.fail("reliability.value", f"expected a number between 0 and 1 (exclusive), got {number}")
        reliability = Reliability(
            value=float(number or 0.5),
            kind=r.get(rel, "reliability", "kind", "str", choices=("cronbach_alpha", "test_retest")) or "",
            citation=_citation(r, rel.get("citation"), "reliability.citation"),
        )
    loinc_data = r.mapping(data.get("loinc", {}), "loinc", (), ("panel", "total"))
    for part in ("panel", "total"):
        code = r.get(loinc_data, "loinc", part, "str?")
        if code is not None and not _LOINC.match(code):
            r.fail(f"loinc.{part}", f"expected a LOINC code such as 44261-6, got {code!r}")
    authorship = r.get(data, "", "authorship", "str", choices=AUTHORSHIP) or "published"
    validated = r.get(data, "", "validated", "bool")
    if authorship == "project" and validated:
        r.fail("validated", "a project-authored check-in is not clinically validated")
    if not validated and (bands is not None or cutoffs or reliable_change is not None):
        r.fail(
            "bands" if bands is not None else "cutoffs" if cutoffs else "reliable_change",
            "an instrument that is not validated has no bands, cut-offs or published thresholds",
        )
    risk = _risk(r, data.get("risk", []), by_id)
    for rule in risk:
        # A risk answer must come from the person (MEASURES.md §1.5: "never impute item 9").
        if rule.item in scoring.missing.items:
            r.fail("scoring.missing.items", f"{rule.item!r} is a risk item and must never be estimated from other answers")
    instrument = Instrument(
        key=key,
        name=r.get(data, "", "name", "str") or "",
        abbreviation=r.get(data, "", "abbreviation", "str?"),
        version=r.get(data, "", "version", "str") or "",
        authorship=authorship,
        validated=bool(validated),
        higher_is_better=bool(r.get(data, "", "higher_is_better", "bool")),
        citations=citations,
        licence=licence,
        stem=r.get(data, "", "stem", "str?"),
        items=items,
        scoring=scoring,
        bands=bands,
        cutoffs=cutoffs,
        caseness=caseness,
        reliable_change=reliable_change,
        reliability=reliability,
        risk=risk,
        flags=_flags(r, data.get("flags", []), by_id),
        loinc=Loinc(panel=loinc_data.get("panel"), total=loinc_data.get("total")),
        source=file,
    )
    if r.problems:
        raise InstrumentError(r.problems)
    return instrument


def read_file(path: Path) -> Instrument:
    """Read and validate one instrument file; the key must match the file name."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InstrumentError([Problem(path.name, where, f"not valid YAML: {problem}")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InstrumentError([Problem(path.name, "", f"cannot be read: {exc}")]) from None
    return parse(raw, file=path.name, expected_key=path.stem)


# --- the catalogue ---------------------------------------------------------------------------------


def check_directories(directories: Iterable[Path]) -> list[Problem]:
    """Every problem in every ``*.yaml`` file of these directories, a key defined twice included."""
    problems: list[Problem] = []
    owners: dict[str, str] = {}
    for directory in directories:
        if not directory.is_dir():
            problems.append(Problem(str(directory), "", "is not a directory"))
            continue
        for path in sorted(directory.glob("*.y*ml")):
            if path.suffix not in {".yaml", ".yml"}:
                continue
            try:
                instrument = read_file(path)
            except InstrumentError as exc:
                problems.extend(exc.problems)
                continue
            if instrument.key in owners:
                problems.append(Problem(path.name, "key", f"{instrument.key!r} is already defined by {owners[instrument.key]}"))
            else:
                owners[instrument.key] = str(path)
    return problems


@functools.cache
def _catalogue(directories: tuple[Path, ...]) -> dict[str, Instrument]:
    problems = check_directories(directories)
    if problems:
        raise InstrumentError(problems)
    found: dict[str, Instrument] = {}
    for directory in directories:
        for path in sorted(directory.glob("*.y*ml")):
            if path.suffix in {".yaml", ".yml"}:
                instrument = read_file(path)
                found[instrument.key] = instrument
    return found


_extra_directories: tuple[Path, ...] = ()


def configure(*, extra_directories: Iterable[Path]) -> None:
    """Add a practice's own instrument directories after the shipped one (called by the app at start-up)."""
    global _extra_directories
    _extra_directories = tuple(Path(directory) for directory in extra_directories)
    _catalogue.cache_clear()


def directories_for(extra_directories: Iterable[Path]) -> tuple[Path, ...]:
    return (BUILTIN_DIR, *(Path(directory) for directory in extra_directories))


def directories() -> tuple[Path, ...]:
    return directories_for(_extra_directories)


def load_all(*, dirs: Iterable[Path] | None = None) -> dict[str, Instrument]:
    """Every instrument by key, validated; raises InstrumentError if any file is broken. Cached."""
    return dict(_catalogue(tuple(dirs) if dirs is not None else directories()))


def load(key: str, *, dirs: Iterable[Path] | None = None) -> Instrument:
    """The instrument with this key (``"phq9"``, ``"gad7"``, ``"who5"``...), validated and cached."""
    catalogue = _catalogue(tuple(dirs) if dirs is not None else directories())
    try:
        return catalogue[key]
    except KeyError:
        raise UnknownInstrument(f"no instrument {key!r}; known: {', '.join(sorted(catalogue))}") from None
