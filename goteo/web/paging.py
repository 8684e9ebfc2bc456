"""Numbered page links for the long lists: 1 … 4 5 6 … 20, with «Anterior» and «Siguiente»."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

AROUND = 1  # pages shown on each side of the current one


@dataclass(frozen=True)
class PageLink:
    """One entry of the pager: a page number with its address, or a gap (``url`` empty)."""

    label: str
    url: str = ""
    current: bool = False


def page_numbers(current: int, total: int) -> list[int | None]:
    """The pages to offer around ``current`` out of ``total``; None marks a gap."""
    if total <= 1:
        return []
    wanted = {1, total, *range(current - AROUND, current + AROUND + 1)}
    shown = sorted(n for n in wanted if 1 <= n <= total)
    out: list[int | None] = []
    for n in shown:
        if out and n - (out[-1] or 0) > 1:
            out.append(None)
        out.append(n)
    return out


def page_links(current: int, total: int, url_for: Callable[[int], str]) -> list[PageLink]:
    """``page_numbers`` as links; ``url_for(n)`` is the address of page n."""
    return [
        PageLink("…") if n is None else PageLink(str(n), "" if n == current else url_for(n), n == current)
        for n in page_numbers(current, total)
    ]
