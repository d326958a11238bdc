"""The README's example runs and prints what it says."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def runs_and_prints_what_it_shows(section: str) -> None:
    text = README.read_text()
    example = re.search(rf"## {section}\n.*?```python\n(.*?)```", text, re.S)
    assert example is not None
    code = example.group(1)
    expected = [line[2:] for line in code.splitlines() if line.startswith("# ")]
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exec(compile(code, "README.md", "exec"), {})
    # A folded header field prints on several lines: unfold it.
    printed = re.sub(r"\r\n[ \t]+", " ", output.getvalue()).splitlines()
    assert len(printed) == len(expected)
    for line, shown in zip(printed, expected):
        if shown.endswith("..."):
            assert line.startswith(shown[:-3]), (line, shown)
        else:
            assert line == shown


def test_readme_example_runs_and_prints_what_it_shows() -> None:
    runs_and_prints_what_it_shows("Example")


def test_readme_session_example_runs_and_prints_what_it_shows() -> None:
    runs_and_prints_what_it_shows("The MTA session")


def test_readme_resolver_example_compiles() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) == 3
    namespace: dict[str, object] = {}
    exec(compile(blocks[1], "README.md", "exec"), namespace)
    assert callable(getattr(namespace["DnsPython"], "lookup"))
