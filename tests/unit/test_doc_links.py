"""Every relative link of README.md and docs/*.md reaches a file of the repository, and every
`#anchor` a heading of the page it names (as GitHub makes anchors from headings)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # https:, mailto:, ...


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def prose(text: str):
    """(line number, line) of the lines outside fenced code blocks."""
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            yield number, line


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation (backticks too) dropped, spaces
    made hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for _, line in prose(page.read_text(encoding="utf-8")):
        if heading := HEADING.match(line):
            base = slug(heading[1])
            count = seen.get(base, 0)
            seen[base] = count + 1
            found.add(f"{base}-{count}" if count else base)
    return found


def broken_links(page: Path, root: Path = ROOT) -> list[str]:
    """Where a relative link of `page` leads nowhere: `page:line: target (why)`, the page named
    from `root`."""
    problems = []
    for number, line in prose(page.read_text(encoding="utf-8")):
        line = re.sub(r"`[^`]*`", "", line)  # code spans show links, they are none
        for target in LINK.findall(line):
            if EXTERNAL.match(target):
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            where = f"{page.relative_to(root)}:{number}: {target}"
            if not linked.exists():
                problems.append(f"{where} (no such file)")
            elif anchor and (linked.suffix != ".md" or anchor not in anchors(linked)):
                problems.append(f"{where} (no such heading)")
    return problems


def test_every_relative_link_and_anchor_of_the_docs_resolves():
    assert len(pages()) > 5
    problems = [problem for page in pages() for problem in broken_links(page)]
    assert not problems, "\n".join(problems)


def test_anchors_are_githubs():
    assert slug("`GET /metrics`") == "get-metrics"
    assert slug("Ranges, time zones and filters") == "ranges-time-zones-and-filters"
    assert slug("At 10x (about 50,000 single events/s)") == "at-10x-about-50000-single-eventss"


def test_a_missing_file_a_missing_heading_and_a_repeated_heading_are_told(tmp_path):
    (tmp_path / "other.md").write_text("# Other\n\n## Twice\n\n## Twice\n")
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n## Here\n\n"
        "[ok](other.md#twice-1) [ok](#here) [ok](https://example.com/x.md#nowhere)\n"
        "![gone](gone.png) [gone](other.md#twice-2) [gone](#there)\n"
        "`[shown](nowhere.md)`\n"
        "```\n[in code](nowhere.md)\n```\n")
    assert broken_links(page, root=tmp_path) == ["page.md:6: gone.png (no such file)",
                        "page.md:6: other.md#twice-2 (no such heading)",
                        "page.md:6: #there (no such heading)"]
