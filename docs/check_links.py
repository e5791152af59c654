#!/usr/bin/env python3
"""Checks that every relative link in README.md and docs/*.md points to an existing file, and
that every #anchor names a heading of the target page (GitHub's slugs). Prints the broken ones
and exits 1 if there are any. The same check runs in CI as DocsLinksTest (module standalone).

usage: python3 docs/check_links.py            (from the repository root, or anywhere)
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Pages colleagues are still writing: linked already, checked as soon as they exist.
PENDING = {"BENCHMARKS.md"}
LINK = re.compile(r"(?<!!)\[(?:[^\[\]]|\[[^\]]*\])*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


def strip_code(text):
    """The text without fenced code blocks and inline code spans (links there are not links)."""
    out, fenced = [], False
    for line in text.split("\n"):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            out.append("")
            continue
        out.append("" if fenced else re.sub(r"`[^`]*`", "``", line))
    return "\n".join(out)


def slug(heading):
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)   # links: their text
    text = text.lower()
    text = re.sub(r"[^\w\- ]", "", text)                      # punctuation, backticks, ...
    return text.replace(" ", "-")


def anchors(path):
    seen, result = {}, set()
    fenced = False
    for line in open(path, encoding="utf-8").read().split("\n"):
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        m = None if fenced else HEADING.match(line)
        if m:
            base = slug(m.group(2))
            n = seen.get(base, 0)
            seen[base] = n + 1
            result.add(base if n == 0 else f"{base}-{n}")
    return result


def pages():
    yield os.path.join(ROOT, "README.md")
    docs = os.path.join(ROOT, "docs")
    for name in sorted(os.listdir(docs)):
        if name.endswith(".md"):
            yield os.path.join(docs, name)


def check():
    problems = []
    for page in pages():
        text = strip_code(open(page, encoding="utf-8").read())
        for lineno, line in enumerate(text.split("\n"), 1):
            for m in LINK.finditer(line):
                target = m.group(1)
                if re.match(r"^[a-z][a-z0-9+.-]*:", target):      # http:, https:, mailto:
                    continue
                path, _, anchor = target.partition("#")
                resolved = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
                where = f"{os.path.relpath(page, ROOT)}:{lineno}: {target}"
                if not os.path.exists(resolved):
                    if os.path.relpath(resolved, ROOT) not in PENDING:
                        problems.append(f"{where}: no such file")
                    continue
                if anchor and (not resolved.endswith(".md") or anchor not in anchors(resolved)):
                    problems.append(f"{where}: no heading #{anchor}")
    return problems


if __name__ == "__main__":
    broken = check()
    for p in broken:
        print(p)
    print(f"{len(broken)} broken link(s)" if broken else "all links resolve")
    sys.exit(1 if broken else 0)
