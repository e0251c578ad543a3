"""Runs the walk-through of docs/python.md: its ```python blocks in order, in one namespace, in a
scratch directory, with LINSIM_DATA_DIR pointing at the public data sets.

  walkthrough.py docs/python.md            run the blocks; exit 1 if one fails (a test)
  walkthrough.py docs/python.md --update   also rewrite each block's output (the ```text block
                                           that follows it) with what it printed

Exit 77 (skipped) when LINSIM_DATA_DIR is unset or ml-100k is missing from it."""
import contextlib
import io
import os
import re
import sys
import tempfile
import traceback

SECTION = "## A walk through MovieLens 100K"
BLOCK = re.compile(r"```python\n(.*?)```\n(?:\n```text\n.*?```\n)?", re.S)


def main():
    path = sys.argv[1]
    update = "--update" in sys.argv[2:]
    data = os.environ.get("LINSIM_DATA_DIR")
    if not data:
        print("skipped: LINSIM_DATA_DIR is not set (the walk-through reads ml-100k from it)")
        return 77
    if not os.path.exists(os.path.join(data, "ml-100k", "u.data")):
        print(f"LINSIM_DATA_DIR={data} has no ml-100k/u.data")
        return 1
    text = open(path, encoding="utf-8").read()
    start = text.index(SECTION)
    end = text.index("\n## ", start + len(SECTION))
    section = text[start:end]
    namespace = {"__name__": "__walkthrough__"}
    outputs = []
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)
        for number, match in enumerate(BLOCK.finditer(section), 1):
            code = match.group(1)
            printed = io.StringIO()
            try:
                with contextlib.redirect_stdout(printed):
                    exec(compile(code, f"{path} block {number}", "exec"), namespace)
            except Exception:
                traceback.print_exc()
                print(f"walk-through block {number} failed:\n{code}", file=sys.stderr)
                return 1
            outputs.append(printed.getvalue())
    print(f"walk-through: {len(outputs)} blocks ran")
    if update:
        it = iter(outputs)

        def replace(match):
            out = next(it)
            block = f"```python\n{match.group(1)}```\n"
            return block + (f"\n```text\n{out}```\n" if out else "")

        new_section = BLOCK.sub(replace, section)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text[:start] + new_section + text[end:])
        print(f"walk-through: outputs written into {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
