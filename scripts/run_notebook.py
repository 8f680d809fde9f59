"""Executes a Jupyter notebook in place of a person: every cell, in order, failing on the first error.

Usage: python scripts/run_notebook.py NOTEBOOK.ipynb

The notebook runs in its own directory with the current interpreter's kernel; the executed copy
(with outputs) is written next to it under target/ so the committed notebook stays clean.
"""

import pathlib
import sys

import nbformat
from nbclient import NotebookClient


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    path = pathlib.Path(sys.argv[1]).resolve()
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    root = pathlib.Path(__file__).resolve().parent.parent
    out = root / "target" / "notebooks" / path.name
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, out)
    cells = sum(1 for c in notebook.cells if c.cell_type == "code")
    print(f"{path.name}: {cells} code cells executed, output in {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
