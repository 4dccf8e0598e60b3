"""One page of a query's results, with the total to number the pages by."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def paginate(session: Session, query: Select[Any], *, page: int, per_page: int) -> Page[Any]:
    """Page `page` of `query`'s rows (the last one when asked for more)."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page = min(max(1, page), max(1, -(-total // per_page)))
    items = list(session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return Page(items, total, page, per_page)
