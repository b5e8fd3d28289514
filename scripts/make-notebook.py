"""Writes a tslab notebook from a simple cell list: python3 scripts/make-notebook.py spec.json out.ipynb.

spec.json: {"cells": [["markdown", "text"], ["code", "source"], ...]}. Cell ids are derived from the
notebook name and cell index, so regenerating gives byte-identical files.
"""
import json
import sys

spec = json.load(open(sys.argv[1]))
name = sys.argv[2].rsplit('/', 1)[-1].removesuffix('.ipynb')
cells = []
for k, (kind, text) in enumerate(spec["cells"]):
    lines = text.strip("\n").split("\n")
    source = [line + "\n" for line in lines[:-1]] + [lines[-1]]
    cell = {"cell_type": kind, "id": f"{name}-{k}", "metadata": {}, "source": source}
    if kind == "code":
        cell["execution_count"] = None
        cell["outputs"] = []
    cells.append(cell)
nb = {
    "cells": cells,
    "metadata": {
        "kernelspec": {"display_name": "TypeScript", "language": "typescript", "name": "tslab"},
        "language_info": {"name": "typescript", "file_extension": ".ts", "mimetype": "text/typescript"},
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}
with open(sys.argv[2], "w") as f:
    json.dump(nb, f, indent=1)
    f.write("\n")
