#!/usr/bin/env python3
"""Checks that the workspace's declared `rust-version` covers what the code needs, without installing
the toolchain of that version (run by scripts/test after the clippy step).

The minimum supported Rust version is the highest of three floors; this script checks two of them and
fails (exit status 1, with the file and line or the package that needs more) when either is above the
declared value:

1. dependencies: the highest `rust-version` that a package in the locked dependency graph declares
   (all features, all targets, all platforms: `cargo metadata --locked --all-features`);
2. language: the newest language feature found in the workspace's own sources, from the table
   `LANGUAGE_FEATURES` below (let chains: 1.88).

The third floor, the standard library's APIs, is checked by clippy's `incompatible_msrv` lint, which
scripts/test denies: it reads `rust-version` and flags any std item stabilised after it.

It also checks that every workspace package declares the workspace's `rust-version`.

Limits: a language feature missing from the table goes unnoticed (the table holds those newer than the
edition's 1.85 that this code base is likely to use); code inside macro invocations is scanned as
plain tokens; clippy's lint skips test code and does not see `const` stability. Only a build with the
declared toolchain (`cargo +1.88 check --workspace --all-targets --all-features --locked`, e.g.
`cargo msrv verify`) proves the value; this check is what can run with one toolchain.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

# One Rust token: comments and literals are matched whole so that nothing inside them counts.
TOKEN = re.compile(
    r"""
      (?P<skip>//[^\n]*|/\*.*?\*/)
    | (?P<lit>b?r(?P<hashes>\#*)".*?"(?P=hashes)|b?"(?:\\.|[^"\\])*"|b?'(?:\\(?:u\{[0-9a-fA-F_]+\}|x[0-9a-fA-F]{2}|.)|[^\\'\n])')
    | (?P<lifetime>'[A-Za-z_]\w*)
    | (?P<word>[A-Za-z_]\w*|\d\w*)
    | (?P<punct>&&|\|\||=>|::|->|[^\s\w])
    """,
    re.VERBOSE | re.DOTALL,
)
OPENERS = {"(": ")", "[": "]"}


def tokens(text: str) -> list[tuple[str, int]]:
    """The source's tokens (comments and literals dropped), each with its line number."""
    out = []
    for m in TOKEN.finditer(text):
        if m.lastgroup in ("word", "punct", "lifetime"):
            out.append((m.group(), text.count("\n", 0, m.start()) + 1))
    return out


def let_chains(toks: list[tuple[str, int]]) -> list[int]:
    """Lines of `if`/`while` conditions that hold both `let` and `&&` outside brackets (let chains)."""
    found = []
    for i, (tok, line) in enumerate(toks):
        if tok not in ("if", "while"):
            continue
        depth, has_let, has_and = [], False, False
        for tok2, _ in toks[i + 1 :]:
            if tok2 in OPENERS:
                depth.append(OPENERS[tok2])
            elif depth and tok2 == depth[-1]:
                depth.pop()
            elif not depth:
                if tok2 in ("{", ";", "=>", "}"):
                    break
                has_let |= tok2 == "let"
                has_and |= tok2 == "&&"
        if has_let and has_and:
            found.append(line)
    return found


def inferred_array_lengths(toks: list[tuple[str, int]]) -> list[int]:
    """Lines of `[x; _]`: an array length left to inference."""
    words = [t for t, _ in toks]
    return [toks[i][1] for i in range(len(toks) - 2) if words[i : i + 3] == [";", "_", "]"]]


# (feature, the first stable version with it, finder)
LANGUAGE_FEATURES = [
    ("let chains (`if let … && …`, edition 2024)", (1, 88), let_chains),
    ("inferred array length (`[x; _]`)", (1, 89), inferred_array_lengths),
]


def version(text: str) -> tuple[int, ...]:
    parts = tuple(int(p) for p in text.split("."))
    return parts + (0,) * (3 - len(parts))


def show(v: tuple[int, ...]) -> str:
    return ".".join(str(p) for p in v[:2]) if v[2:] == (0,) else ".".join(map(str, v))


def main() -> int:
    root = Path(__file__).resolve().parent.parent
    meta = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--locked", "--all-features"],
            cwd=root,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    members = set(meta["workspace_members"])
    packages = meta["packages"]
    workspace = [p for p in packages if p["id"] in members]
    declared_texts = {p["rust_version"] for p in workspace}
    failures = []
    for p in workspace:
        if p["rust_version"] is None:
            failures.append(f"{p['manifest_path']}: no rust-version (add `rust-version.workspace = true`)")
    declared_set = {version(t) for t in declared_texts if t is not None}
    if len(declared_set) != 1:
        failures.append(f"workspace packages declare different rust-versions: {sorted(map(show, declared_set))}")
        declared = max(declared_set, default=(0, 0, 0))
    else:
        (declared,) = declared_set

    deps = [(version(p["rust_version"]), f"{p['name']} {p['version']}") for p in packages
            if p["id"] not in members and p["rust_version"]]
    dep_floor, dep_name = max(deps, default=((0, 0, 0), "none"))
    if dep_floor > declared:
        needing = sorted(name for v, name in deps if v > declared)
        failures.append(f"dependencies need rust {show(dep_floor)}: {', '.join(needing)}")

    lang_floor, lang_what = (1, 85, 0), "edition 2024"
    for p in workspace:
        src_root = Path(p["manifest_path"]).parent
        for path in sorted(src_root.rglob("*.rs")):
            rel = path.relative_to(root)
            if "target" in rel.parts:
                continue
            toks = tokens(path.read_text(encoding="utf-8"))
            for feature, since, finder in LANGUAGE_FEATURES:
                for line in finder(toks):
                    since3 = since + (0,)
                    if since3 > declared:
                        failures.append(f"{rel}:{line}: {feature} needs rust {show(since3)}")
                    if since3 > lang_floor:
                        lang_floor, lang_what = since3, f"{feature} at {rel}:{line}"

    if failures:
        print(f"rust-version {show(declared)} is below what the code needs:", file=sys.stderr)
        for f in failures:
            print(f"  {f}", file=sys.stderr)
        return 1
    print(
        f"rust-version {show(declared)} covers the dependencies (highest: {show(dep_floor)}, {dep_name}) "
        f"and the language features found (highest: {show(lang_floor)}, {lang_what}); "
        f"std APIs: clippy incompatible_msrv",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
