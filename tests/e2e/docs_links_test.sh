#!/usr/bin/env bash
# The documentation holds together: every relative Markdown link of README.md and docs/*.md
# points at a file of the repository, and every #anchor at a heading of its target (anchors made
# as GitHub makes them); the README starts with the two commands that run the demo and the test
# suite, and both scripts exist and are executable. Links to http(s) URLs are not followed.
# Usage: docs_links_test.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
src="$(cd "$2" && pwd)"

python3 - "$src" <<'PY'
import os, re, sys

src = sys.argv[1]
problems = []


def strip_code(text):
    """The text without fenced code blocks, inline code and HTML comments (their brackets are
    not links), line numbers kept."""
    out, fenced = [], False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            out.append("")
            continue
        out.append("" if fenced else re.sub(r"`[^`]*`", "", line))
    return re.sub(r"<!--.*?-->", lambda m: "\n" * m.group(0).count("\n"), "\n".join(out), flags=re.S)


def anchors_of(path):
    """GitHub's heading anchors: lower case, everything but letters, digits, spaces, - and _
    dropped, spaces to -; a repeated heading gets -1, -2..."""
    anchors, seen, fenced = set(), {}, False
    for line in open(path, encoding="utf-8").read().splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        m = None if fenced else re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", m.group(1).strip())  # a linked heading
        slug = re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        anchors.add(slug if n == 0 else f"{slug}-{n}")
    return anchors


docs = os.path.join(src, "docs")
files = [os.path.join(src, "README.md")] + sorted(
    os.path.join(docs, f) for f in os.listdir(docs) if f.endswith(".md"))
links = 0
for path in files:
    rel = os.path.relpath(path, src)
    text = strip_code(open(path, encoding="utf-8").read())
    for lineno, line in enumerate(text.splitlines(), 1):
        for target in re.findall(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", line):
            if re.match(r"[a-z][a-z0-9+.-]*:", target):  # https:, mailto:
                continue
            links += 1
            file_part, _, anchor = target.partition("#")
            dest = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) if file_part else path
            if not os.path.exists(dest):
                problems.append(f"{rel}:{lineno}: link to {target}: {os.path.relpath(dest, src)} does not exist")
                continue
            if anchor and dest.endswith(".md") and anchor not in anchors_of(dest):
                problems.append(f"{rel}:{lineno}: link to {target}: no heading #{anchor} in {os.path.relpath(dest, src)}")

# The README's first lines: the two commands, as the task that CI runs (.ci/run) expects.
readme = open(os.path.join(src, "README.md"), encoding="utf-8").read().splitlines()
block = []
if len(readme) > 3 and readme[0].startswith("# ") and readme[2] == "```sh":
    for line in readme[3:]:
        if line == "```":
            break
        block.append(line.split("#", 1)[0].strip())
if block != ["scripts/demo.sh", "scripts/test.sh"]:
    problems.append(f"README.md must start (after its title) with a sh block of exactly scripts/demo.sh and scripts/test.sh, found {block}")
for script in ("scripts/demo.sh", "scripts/test.sh"):
    if not os.access(os.path.join(src, script), os.X_OK):
        problems.append(f"{script} is missing or not executable")
ci = open(os.path.join(src, ".ci/run"), encoding="utf-8").read()
if "scripts/test.sh" not in ci:
    problems.append(".ci/run does not run scripts/test.sh, the README's test command")

for p in problems:
    print("FAIL:", p, file=sys.stderr)
if problems:
    sys.exit(1)
print(f"docs_links_test: {links} relative links in {len(files)} files resolve; the README starts with its two commands")
PY
