#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Generate acm-agent.yaml(5) from conf/REFERENCE.md, and check that
REFERENCE.md documents exactly the keys the loader accepts.

  reference-to-man.py REFERENCE.md > acm-agent.yaml.5
  reference-to-man.py --check-keys KEYS REFERENCE.md

REFERENCE.md is written in a small Markdown subset, and this converts only
that: headings (#, ##, ###), paragraphs, "- " lists, indented code blocks,
pipe tables, `code`, **bold**, HTML comments (dropped). A table is rendered
as tagged paragraphs: the first column is the tag, the middle columns
"header: value", the last column the text. The output depends on the input
only (no date, no version), so the committed page can be compared with a
fresh one.

--check-keys KEYS: KEYS holds one accepted key path per line (from
conf_key_paths()). Each table preceded by "<!-- keys: PREFIX ... -->"
documents the keys of its first column under those prefixes ("-" is the top
level). Fails when an accepted path is not documented (a "defaults.X" path is
documented by "certificates[].X") or a documented key is accepted under none
of its table's prefixes.
"""
import re
import sys

TITLE = "ACM-AGENT.YAML"
NAME = "acm-agent.yaml \\- configuration of acm-agent"


def roff_escape(text):
    """Escapes plain text for roff (not the inline markup); non-ASCII as \\[uXXXX]."""
    text = text.replace("\\", "\\e")
    return "".join(c if ord(c) < 128 else "\\[u%04X]" % ord(c) for c in text)


def inline(text):
    """Markdown inline markup to roff: `code`, **bold**, links; escapes the rest."""
    out = []
    pos = 0
    for m in re.finditer(r"`([^`]*)`|\*\*([^*]+)\*\*|\[([^\]]+)\]\(([^)]+)\)", text):
        out.append(roff_escape(text[pos:m.start()]))
        if m.group(1) is not None:
            out.append("\\fB" + roff_escape(m.group(1)).replace("-", "\\-") + "\\fR")
        elif m.group(2) is not None:
            out.append("\\fB" + roff_escape(m.group(2)) + "\\fR")
        else:
            out.append(roff_escape(m.group(3)) + " (" + roff_escape(m.group(4)) + ")")
        pos = m.end()
    out.append(roff_escape(text[pos:]))
    return "".join(out)


def text_line(line):
    """A line of running text: a leading '.' or "'" would be a request."""
    line = line.strip()
    if line.startswith((".", "'")):
        line = "\\&" + line
    return line


def split_row(line):
    """Cells of a pipe table row; "\\|" is a literal bar."""
    body = line.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    cells = re.split(r"(?<!\\)\|", body)
    return [c.strip().replace("\\|", "|") for c in cells]


def is_separator(line):
    return re.fullmatch(r"\s*\|?(\s*:?-+:?\s*\|)+\s*:?-*:?\s*\|?\s*", line) is not None


def parse(lines):
    """Blocks: (kind, data) with kind heading1/heading2/heading3/para/list/code/table/comment."""
    blocks = []
    i = 0
    n = len(lines)
    while i < n:
        line = lines[i].rstrip("\n")
        if not line.strip():
            i += 1
            continue
        if line.startswith("<!--"):
            text = line
            while "-->" not in text and i + 1 < n:
                i += 1
                text += " " + lines[i].strip()
            blocks.append(("comment", text))
            i += 1
            continue
        m = re.match(r"(#{1,3}) (.*)", line)
        if m:
            blocks.append(("heading%d" % len(m.group(1)), m.group(2).strip()))
            i += 1
            continue
        if line.startswith("    "):
            code = []
            while i < n and (lines[i].startswith("    ") or not lines[i].strip()):
                code.append(lines[i].rstrip("\n")[4:])
                i += 1
            while code and not code[-1].strip():
                code.pop()
            blocks.append(("code", code))
            continue
        if line.lstrip().startswith("|") and i + 1 < n and is_separator(lines[i + 1]):
            header = split_row(line)
            rows = []
            i += 2
            while i < n and lines[i].lstrip().startswith("|"):
                rows.append(split_row(lines[i]))
                i += 1
            blocks.append(("table", (header, rows)))
            continue
        if line.startswith("- "):
            items = []
            while i < n and lines[i].strip() and (lines[i].startswith("- ") or lines[i].startswith("  ")):
                if lines[i].startswith("- "):
                    items.append(lines[i][2:].strip())
                else:
                    items[-1] += " " + lines[i].strip()
                i += 1
            blocks.append(("list", items))
            continue
        para = []
        while i < n and lines[i].strip() and not lines[i].startswith(("#", "    ", "- ", "<!--")) \
                and not lines[i].lstrip().startswith("|"):
            para.append(lines[i].strip())
            i += 1
        blocks.append(("para", " ".join(para)))
    return blocks


def render(blocks):
    out = [
        ".\\\" SPDX-License-Identifier: Apache-2.0",
        ".\\\" Generated from conf/REFERENCE.md by man/reference-to-man.py; do not edit.",
        ".\\\" Regenerate with: make update-man",
        '.TH %s 5 "" "acm-agent" "File Formats"' % TITLE,
        ".SH NAME",
        NAME,
    ]
    first_h1 = True
    for kind, data in blocks:
        if kind == "comment":
            continue
        if kind == "heading1":
            if first_h1:
                first_h1 = False
                out.append(".SH DESCRIPTION")
                continue
            out.append(".SH " + inline(data.upper()))
        elif kind == "heading2":
            out.append(".SH " + inline(data.upper()))
        elif kind == "heading3":
            out.append(".SS " + inline(data))
        elif kind == "para":
            out.append(".PP")
            out.append(text_line(inline(data)))
        elif kind == "list":
            for item in data:
                out.append(".IP \\(bu 2")
                out.append(text_line(inline(item)))
            out.append(".PP")
        elif kind == "code":
            out.append(".PP")
            out.append(".RS 4")
            out.append(".nf")
            for c in data:
                out.append("\\&" + roff_escape(c))
            out.append(".fi")
            out.append(".RE")
        elif kind == "table":
            header, rows = data
            for row in rows:
                row = row + [""] * (len(header) - len(row))
                out.append(".TP")
                out.append(text_line(inline(row[0])))
                if len(header) > 2:
                    facts = ["%s: %s" % (inline(header[k]), inline(row[k]))
                             for k in range(1, len(header) - 1) if row[k]]
                    if facts:
                        out.append(text_line("; ".join(facts)))
                        if row[-1]:
                            out.append(".br")
                if row[-1] and len(header) > 1:
                    out.append(text_line(inline(row[-1])))
            out.append(".PP")
    out.append(".SH SEE ALSO")
    out.append(".BR acm-agent (8)")
    # drop a .PP directly before a heading or another .PP
    cleaned = []
    for line in out:
        if line.startswith((".SH", ".SS", ".PP")) and cleaned and cleaned[-1] == ".PP":
            cleaned.pop()
        cleaned.append(line)
    return "\n".join(cleaned) + "\n"


def documented_tables(blocks):
    """[(prefixes, keys)] of the tables after a keys comment."""
    tables = []
    prefixes = None
    for kind, data in blocks:
        if kind == "comment":
            m = re.match(r"<!--\s*keys:\s*(.*?)\s*-->", data)
            prefixes = m.group(1).split() if m else None
            continue
        if kind == "table" and prefixes is not None:
            keys = []
            for row in data[1]:
                m = re.fullmatch(r"`([^`]+)`", row[0])
                if not m:
                    raise SystemExit("REFERENCE.md: a keys table row does not start with `key`: %r" % row[0])
                keys.append(m.group(1))
            tables.append((prefixes, keys))
        prefixes = None
    return tables


def full(prefix, key):
    return key if prefix == "-" else prefix + "." + key


def check_keys(keys_file, blocks):
    accepted = [l.strip() for l in open(keys_file, encoding="utf-8") if l.strip()]
    if not accepted:
        raise SystemExit("%s: no key paths" % keys_file)
    tables = documented_tables(blocks)
    documented = {full(p, k) for prefixes, keys in tables for p in prefixes for k in keys}
    failures = []
    for path in accepted:
        alt = "certificates[]." + path[len("defaults."):] if path.startswith("defaults.") else None
        if path not in documented and alt not in documented:
            failures.append("accepted by the loader but not documented in REFERENCE.md: %s" % path)
    accepted_set = set(accepted)
    for prefixes, keys in tables:
        for k in keys:
            if not any(full(p, k) in accepted_set for p in prefixes):
                failures.append("documented in REFERENCE.md but not accepted by the loader: %s"
                                % " / ".join(full(p, k) for p in prefixes))
    for f in failures:
        print(f, file=sys.stderr)
    return 1 if failures else 0


def main(argv):
    keys_file = None
    if len(argv) == 4 and argv[1] == "--check-keys":
        keys_file, src = argv[2], argv[3]
    elif len(argv) == 2:
        src = argv[1]
    else:
        print(__doc__, file=sys.stderr)
        return 2
    with open(src, encoding="utf-8") as f:
        blocks = parse(f.readlines())
    if keys_file:
        return check_keys(keys_file, blocks)
    sys.stdout.write(render(blocks))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
