"""The standard tables the engine reads: regions, industries, SME size classes, statistical lines,
clusters and labels. Data lives in `standards/` beside this module, never in code, so a revised
standard is a data change."""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

STANDARDS_DIR = Path(__file__).parent / "standards"
DATA_FILES = (
    "regions.csv",
    "regions_retired.csv",
    "industries.csv",
    "sme_size.yaml",
    "statistical_lines.yaml",
    "clusters.yaml",
    "vocabulary.yaml",
)


NATIONAL_CODES = frozenset({"000000", "100000"})


def region_prefix(code: str) -> str:
    """The prefix every GB/T 2260 code at or below `code` starts with (2 digits a province, 2 a city,
    2 a county): what a database filters stored codes by."""
    if code in NATIONAL_CODES:
        return ""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


_PLACEHOLDER_REGIONS = {"市辖区": ("市辖区", "districts"), "县": ("所辖县", "counties")}
_INDUSTRY_CODE = re.compile(r"^([A-Ta-t](?:\d{2,4})?)(?:\s|$)")


@dataclass(frozen=True, slots=True)
class Region:
    code: str
    name_zh: str
    name_en: str
    parent: str | None


@dataclass(frozen=True, slots=True)
class Industry:
    code: str
    name_zh: str
    name_en: str
    level: str
    parent: str | None


@dataclass(frozen=True, slots=True)
class SizeGroup:
    """One industry group of the SME standard and its three lower bounds (large, medium, small)."""

    id: str
    name: dict[str, str]
    clause: str
    scope: tuple[str, ...]
    exclude: tuple[str, ...]
    revenue_source: tuple[str, ...]
    tiers: tuple[tuple[str, dict[str, float]], ...]  # ("large", {...}), ("medium", {...}), ("small", {...})


@dataclass(frozen=True, slots=True)
class StatisticalLine:
    """The 规模以上 / 限额以上 revenue line of one sector."""

    id: str
    name: dict[str, str]
    kind: str  # designated_size | quota
    scope: tuple[str, ...]
    exclude: tuple[str, ...]
    min_revenue: float | None
    revenue_source: tuple[str, ...]
    counts_all: bool = False  # every firm of the sector is counted (no figure decides)


@dataclass(frozen=True)
class Tables:
    regions: dict[str, Region]
    retired_regions: dict[str, str]  # retired code -> current code
    region_ancestors: dict[str, frozenset[str]]  # code -> itself and every ancestor
    region_children: dict[str | None, tuple[str, ...]]  # code -> the codes right under it; None -> provinces
    industries: dict[str, Industry]
    size_groups: tuple[SizeGroup, ...]
    statistical_lines: tuple[StatisticalLine, ...]
    clusters: dict[str, dict[str, Any]]
    vocabulary: dict[str, Any]
    version: str
    _region_names: dict[tuple[str, str], str] = field(default_factory=dict, repr=False, compare=False)
    # Per industry code (bounded: validated codes are GB/T 4754's), as the prefix search is per profile.
    _size_group_of: dict[str, SizeGroup] = field(default_factory=dict, repr=False, compare=False)
    _line_of: dict[str, StatisticalLine | None] = field(default_factory=dict, repr=False, compare=False)

    def region_name(self, code: str, lang: str) -> str:
        """Full name, province first in Chinese ("江苏省苏州市吴中区"), district first in English."""
        name = self._region_names.get((code, lang))
        if name is None:
            name = self._region_names[code, lang] = self._compose_region_name(code, lang)
        return name

    def _compose_region_name(self, code: str, lang: str) -> str:
        chain: list[Region] = []
        current: str | None = code
        while current and current in self.regions:
            chain.append(self.regions[current])
            current = self.regions[current].parent
        if not chain:
            return code
        if lang == "zh":
            names: list[str] = []
            for region in reversed(chain):
                if region.name_zh not in ("市辖区", "县") and region.name_zh not in names:
                    names.append(region.name_zh)
            return "".join(names)
        names = []
        for region in chain:
            if region.name_en and region.name_en not in names and region.name_zh not in ("市辖区", "县"):
                names.append(region.name_en)
        return ", ".join(names)

    def region_within(self, code: str, area: str) -> bool | None:
        """Whether a company registered at `code` is inside `area`: True when `code` is `area` or below
        it, unknown (None) when `code` is a larger area holding `area` (a province for a city-level
        measure: the company may or may not be inside), False when the two are disjoint."""
        if area in self.region_ancestors.get(code, (code,)):
            return True
        if code in self.region_ancestors.get(area, (area,)):
            return None
        return False

    def urban_district(self, code: str | None) -> bool | None:
        """Whether `code` is an urban district (市辖区), the "城区" of a source: True for a 区 at county
        level, False for a county (县, 旗) or county-level city (市); unknown for a city or province that
        holds both kinds. GB/T 2260 numbers county-level units 01-20 for 市辖区, 21-80 for 县 and 81-99
        for 县级市, but a few codes break the pattern, so the name decides: a 区 under a city is a district
        (万柏林区 and 碑林区 too). A unit under a province itself (神农架林区, 仙桃市, 东莞市) is a county-level
        unit or a city of towns, never a district."""
        if code not in self.regions:  # none given, or not a code of the table
            return None
        if len(self.region_ancestors[code]) < 3:
            return None if self.region_children.get(code) else False
        return self.regions[code].name_zh.endswith("区")

    def region_chain(self, code: str | None) -> list[str]:
        """The code and its ancestors, province first; empty for an unknown code."""
        chain: list[str] = []
        while code and code in self.regions and code not in chain:
            chain.insert(0, code)
            code = self.regions[code].parent
        return chain

    def region_label(self, code: str, lang: str) -> str:
        """A region's own name, as a list of choices shows it; the 市辖区/县 levels of the
        municipalities are named after their city."""
        region = self.regions[code]
        if region.name_zh in _PLACEHOLDER_REGIONS and region.parent in self.regions:
            zh, en = _PLACEHOLDER_REGIONS[region.name_zh]
            parent = self.regions[region.parent]
            return f"{parent.name_zh}{zh}" if lang == "zh" else f"{parent.name_en or parent.name_zh} ({en})"
        return region.name_zh if lang == "zh" else (region.name_en or region.name_zh)

    def region_level(self, code: str) -> str:
        """province, city or county: the depth of a GB/T 2260 code (municipalities' 市辖区 count as city)."""
        return ("province", "city", "county")[min(len(self.region_ancestors.get(code, (code,))), 3) - 1]

    def industry_label(self, code: str, lang: str) -> str:
        """"C3911 计算机整机制造" / "C3911 Manufacture of complete computers"; a code without an English
        name (none in the table today) shows its Chinese name with its nearest English ancestor's."""
        industry = self.industries[code]
        if lang == "en" and not industry.name_en:
            return f"{code} {industry.name_zh} ({self.industry_name(code, 'en')})"
        return f"{code} {self.industry_name(code, lang)}".strip()

    def find_industries(self, text: str, limit: int = 30) -> list[str]:
        """Industries whose code starts with `text` or whose name (zh or en) contains it; classes first."""
        needle = text.strip().lower()
        if not needle:
            return []
        exact = [code for code, ind in self.industries.items() if needle in (ind.name_zh.lower(), ind.name_en.lower())]
        if exact:
            return self._most_specific(exact)[:limit]
        found = [code for code, ind in self.industries.items()
                 if code.lower().startswith(needle) or needle in ind.name_zh.lower() or needle in ind.name_en.lower()]
        return self._most_specific(found)[:limit]

    def _most_specific(self, codes: list[str]) -> list[str]:
        """Classes first (a main business is a 4-digit class); a group named like its only class is dropped."""
        chosen = set(codes)
        named_below = {parent for code in codes
                       if (parent := self.industries[code].parent) is not None and parent in chosen
                       and self.industries[parent].name_zh == self.industries[code].name_zh}
        return sorted(chosen - named_below, key=lambda code: (-len(code), code))

    def resolve_industry(self, text: str) -> tuple[str | None, list[str]]:
        """The code `text` names ("C3911", "C3911 计算机整机制造", or a name), else the candidates."""
        match = _INDUSTRY_CODE.match(text.strip())
        if match and match.group(1).upper() in self.industries:
            return match.group(1).upper(), []
        candidates = self.find_industries(text)
        if len(candidates) == 1:
            return candidates[0], []
        return None, candidates

    def industry_name(self, code: str, lang: str) -> str:
        current: str | None = code
        while current and current in self.industries:
            industry = self.industries[current]
            name = industry.name_zh if lang == "zh" else industry.name_en
            if name:
                return name
            current = industry.parent
        return ""

    def label(self, kind: str, value: str, lang: str) -> str:
        """The zh/en label of an enum value or a field, or the value itself when it has none."""
        if kind == "fields":
            entry = self.vocabulary["fields"].get(value)
        elif kind == "clusters":
            entry = self.clusters.get(value, {}).get("name")
        else:
            entry = self.vocabulary["values"].get(kind, {}).get(value)
        return entry[lang] if entry else value

    def value_label(self, value: str, lang: str) -> str:
        """The label of an id whose kind is not known (an element of a list parameter)."""
        for labels in self.vocabulary["values"].values():
            if value in labels:
                return labels[value][lang]
        if value in self.clusters:
            return self.clusters[value]["name"][lang]
        return value

    def size_group_for(self, industry_code: str) -> SizeGroup:
        group = self._size_group_of.get(industry_code)
        if group is None:
            group = _longest_prefix_match(self.size_groups, industry_code) or self._fallback_group
            self._size_group_of[industry_code] = group
        return group

    def line_for(self, industry_code: str) -> StatisticalLine | None:
        if industry_code not in self._line_of:
            self._line_of[industry_code] = _longest_prefix_match(self.statistical_lines, industry_code)
        return self._line_of[industry_code]

    @property
    def _fallback_group(self) -> SizeGroup:
        return next(group for group in self.size_groups if not group.scope)


def _longest_prefix_match(entries: Any, code: str) -> Any:
    best, best_length = None, -1
    for entry in entries:
        if any(code.startswith(prefix) for prefix in entry.exclude):
            continue
        for prefix in entry.scope:
            if code.startswith(prefix) and len(prefix) > best_length:
                best, best_length = entry, len(prefix)
    return best


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(row for row in handle if not row.startswith("#")))


def _read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _ancestors(regions: dict[str, Region]) -> dict[str, frozenset[str]]:
    result: dict[str, frozenset[str]] = {}
    for code in regions:
        chain: set[str] = set()
        current: str | None = code
        while current and current not in chain:
            chain.add(current)
            current = regions[current].parent if current in regions else None
        result[code] = frozenset(chain)
    return result


@cache
def load_tables(directory: Path = STANDARDS_DIR) -> Tables:
    """Read every standard table once per process."""
    regions = {
        row["code"]: Region(row["code"], row["name_zh"], row.get("name_en") or "", row.get("parent") or None)
        for row in _read_csv(directory / "regions.csv")
    }
    children: dict[str | None, list[str]] = {}
    for region in regions.values():
        children.setdefault(region.parent, []).append(region.code)
    retired = {row["code"]: row["successor"] for row in _read_csv(directory / "regions_retired.csv")}
    industries = {
        row["code"]: Industry(
            row["code"], row["name_zh"], row.get("name_en") or "", row["level"], row.get("parent") or None
        )
        for row in _read_csv(directory / "industries.csv")
    }
    size = _read_yaml(directory / "sme_size.yaml")
    size_groups = tuple(
        SizeGroup(
            id=group["id"],
            name=group["name"],
            clause=group.get("clause", ""),
            scope=tuple(group.get("scope") or ()),
            exclude=tuple(group.get("exclude") or ()),
            revenue_source=tuple(group.get("revenue_source") or ()),
            tiers=tuple((tier, dict(group[tier])) for tier in ("large", "medium", "small")),
        )
        for group in size["groups"]
    )
    lines_doc = _read_yaml(directory / "statistical_lines.yaml")
    lines = tuple(
        StatisticalLine(
            id=line["id"],
            name=line["name"],
            kind=line["kind"],
            scope=tuple(line.get("scope") or ()),
            exclude=tuple(line.get("exclude") or ()),
            min_revenue=line.get("min_revenue"),
            revenue_source=tuple(line.get("revenue_source") or ("annual_revenue",)),
            counts_all=bool(line.get("counts_all", False)),
        )
        for line in lines_doc["lines"]
    )
    clusters_doc = _read_yaml(directory / "clusters.yaml")
    clusters = {entry["id"]: entry for entry in clusters_doc["clusters"]}
    digest = hashlib.sha256()
    for name in DATA_FILES:
        digest.update(name.encode() + b"\0" + (directory / name).read_bytes())
    return Tables(
        regions=regions,
        retired_regions=retired,
        region_ancestors=_ancestors(regions),
        region_children={parent: tuple(sorted(codes)) for parent, codes in children.items()},
        industries=industries,
        size_groups=size_groups,
        statistical_lines=lines,
        clusters=clusters,
        vocabulary=_read_yaml(directory / "vocabulary.yaml"),
        version=digest.hexdigest(),
    )

