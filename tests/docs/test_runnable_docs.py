"""Every shell block the README and docs/ mark as runnable runs as written and prints what it shows.

Each file's blocks run in order in one bash (variables carry over) against a fresh `twin serve`; the
ports the docs name (8080, 8081, …) are mapped to free ones, in the commands and the shown output.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest
from runnable import Block, matches, runnable_blocks
from twin_process import BIN, ROOT, free_port, twin_serve

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
DOC_PORT = re.compile(r"\b808(\d)\b")
SEPARATOR = "\x1e"


def run_blocks(blocks: list[Block], ports: dict[str, str]) -> list[str]:
    """Run the blocks in one bash, in order; the output of each."""
    script = ["cd " + str(ROOT)]
    for number, block in enumerate(blocks):
        script.append(f"printf '{SEPARATOR}{number}{SEPARATOR}\\n'")
        script.append("{\n" + DOC_PORT.sub(lambda m: ports[m.group(1)], block.commands) + "\n} 2>&1")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    process = subprocess.Popen(["bash", "-c", "\n".join(script)], cwd=ROOT, env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        output, _ = process.communicate(timeout=180)
    finally:
        # whatever a block left running in the background (a second twin) goes with the session
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    pieces = re.split(f"{SEPARATOR}\\d+{SEPARATOR}\\n", output)
    return pieces[1:]


DOCS_WITH_BLOCKS = [path for path in DOCS if runnable_blocks(path)]


def test_the_readme_and_docs_have_runnable_blocks() -> None:
    assert ROOT / "README.md" in DOCS_WITH_BLOCKS


@pytest.mark.parametrize("doc", DOCS_WITH_BLOCKS, ids=lambda path: path.name)
def test_runnable_blocks_print_what_they_show(doc: Path) -> None:
    blocks = runnable_blocks(doc)
    ports = {digit: str(free_port()) for digit in "0123456789"}
    with twin_serve(port=int(ports["0"])):
        outputs = run_blocks(blocks, ports)
    assert len(outputs) == len(blocks), f"the blocks of {doc.name} did not all run:\n{''.join(outputs)}"
    mismatches = []
    for block, output in zip(blocks, outputs, strict=True):
        if block.expected is None:
            continue
        expected = DOC_PORT.sub(lambda m: ports[m.group(1)], block.expected)
        if not matches(expected, output):
            mismatches.append(f"--- {block.where} shows:\n{expected}--- but printed:\n{output}")
    assert not mismatches, "\n".join(mismatches)
