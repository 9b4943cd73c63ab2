#!/usr/bin/env python3
"""Lists the functions of a tree that obtain a handle from an accessor, for hand-reading.

    functions.py TREE ACCESSOR [--seed S] [--findings CHECK.json]

Prints one block per function that names ACCESSOR (a call `ACCESSOR(`, a method
`.ACCESSOR(` or a field `.ACCESSOR`), in a seeded random order: `file:start-end name`, a
`W` when the body shows a write marker (write SQL in a literal or in a const the body names,
an ORM write builder or model write), a `F` when CHECK.json has a finding inside it, then the
body lines that name the accessor or a write marker. The sample for recall is taken from the
top of this list, hand-reading each block (and the helpers it calls) until 25 functions that
really write through the handle are confirmed. The lexer is only good enough to match braces
outside strings, chars and comments; it is a reading aid, not an analysis.
"""

import argparse
import json
import os
import random
import re

WRITE_SQL = re.compile(r"\b(INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|UPSERT|TRUNCATE|"
                       r"ON\s+CONFLICT|CREATE\s+|DROP\s+|ALTER\s+|LISTEN|NOTIFY)", re.I)
WRITE_CALL = re.compile(r"\b(insert_into|insert_or_ignore_into|replace_into|diesel::update|"
                        r"diesel::delete|update_many|delete_many|insert_many|delete_by_id|"
                        r"exec_with_returning)\b|::(insert|update|delete)\(|"
                        r"\.(save|insert|update|delete)\(&|\.commit\(")
FN = re.compile(r"\bfn\s+([A-Za-z_][A-Za-z0-9_]*)")
CONST = re.compile(r"\b(?:const|static)\s+([A-Z_][A-Z0-9_]*)\s*:\s*&(?:'static\s+)?str\s*=\s*"
                   r"(?:include_str!\(\s*\"([^\"]+)\"\s*\)|(r#*\"|\"))", re.S)


def blank(text):
    """The text with strings, chars and comments replaced by spaces (newlines kept)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
        elif text.startswith("/*", i):
            j, depth = i + 2, 1
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
        elif c == "r" and re.match(r'r#*"', text[i:i + 10]) and not (i and (text[i - 1].isalnum() or text[i - 1] == "_")):
            hashes = len(re.match(r"r(#*)\"", text[i:]).group(1))
            end = text.find('"' + "#" * hashes, i + 2 + hashes)
            j = n if end < 0 else end + 1 + hashes
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j += 1
        elif c == "'" and re.match(r"'(\\.[^']*|[^\\'])'", text[i:i + 12]):
            j = i + len(re.match(r"'(\\.[^']*|[^\\'])'", text[i:i + 12]).group(0))
        else:
            out.append(c)
            i += 1
            continue
        out.append(re.sub(r"[^\n]", " ", text[i:j]))
        i = j
    return "".join(out)


def functions(text):
    """(name, start line, end line) of every fn with a body, innermost last."""
    masked = blank(text)
    result = []
    for m in FN.finditer(masked):
        k = m.end()
        while k < len(masked) and masked[k] not in "{;":
            k += 1
        if k >= len(masked) or masked[k] == ";":
            continue
        depth, j = 0, k
        while j < len(masked):
            if masked[j] == "{":
                depth += 1
            elif masked[j] == "}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        result.append((m.group(1), text.count("\n", 0, m.start()) + 1, text.count("\n", 0, j) + 1))
    return result


def write_consts(root):
    names = set()
    for path in rust_files(root):
        text = open(path, encoding="utf-8", errors="replace").read()
        for m in CONST.finditer(text):
            if m.group(2):
                sql_path = os.path.join(os.path.dirname(path), m.group(2))
                body = open(sql_path, errors="replace").read() if os.path.exists(sql_path) else ""
            else:
                body = text[m.end():m.end() + 2000].split('";', 1)[0]
            if WRITE_SQL.search(body):
                names.add(m.group(1))
    return names


def rust_files(root):
    for d, _, files in os.walk(root):
        for f in sorted(files):
            if f.endswith(".rs"):
                yield os.path.join(d, f)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("tree")
    p.add_argument("accessor")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--findings")
    args = p.parse_args()
    findings = {}
    if args.findings:
        for f in json.load(open(args.findings)).get("findings", []):
            findings.setdefault(os.path.relpath(f["file"], args.tree), []).append(f["line"])
    consts = write_consts(args.tree)
    acc = re.compile(rf"(\b|\.){re.escape(args.accessor)}\b")
    blocks = []
    for path in rust_files(args.tree):
        text = open(path, encoding="utf-8", errors="replace").read()
        lines = text.split("\n")
        rel = os.path.relpath(path, args.tree)
        fns = functions(text)
        for name, start, end in fns:
            # Skip a function when an inner fn holds every accessor line (closures stay in).
            body = lines[start - 1:end]
            hits = [i for i, l in enumerate(body, start) if acc.search(l)]
            inner = [(s, e) for n, s, e in fns if start < s and e <= end]
            hits = [h for h in hits if not any(s <= h <= e for s, e in inner)]
            if not hits or (len(hits) == 1 and re.search(rf"\bfn\s+{re.escape(args.accessor)}\b", lines[hits[0] - 1])):
                continue
            marks = [i for i, l in enumerate(body, start)
                     if WRITE_SQL.search(l) or WRITE_CALL.search(l) or any(re.search(rf"\b{c}\b", l) for c in consts)]
            found = any(start <= ln <= end for ln in findings.get(rel, []))
            shown = sorted(set(hits + marks))[:12]
            blocks.append((f"{rel}:{start}-{end} {name} {'W' if marks else '-'}{'F' if found else '-'}",
                           [f"  {ln}: {lines[ln - 1].strip()[:150]}" for ln in shown]))
    random.Random(args.seed).shuffle(blocks)
    for head, body in blocks:
        print(head)
        print("\n".join(body))


if __name__ == "__main__":
    main()
