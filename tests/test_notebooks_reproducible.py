"""The notebooks print the same thing every time, and need no network.

nbmake (``make test``) runs every notebook once; these tests run a few again under harder conditions:
twice in a row, comparing every text output (seeded NumPy, torch and TensorFlow, fixed thread counts), and in
a network namespace with no network at all (``unshare -rn``, as root), or, where the machine does not allow
one, with a socket guard that refuses every connection off the machine in the kernels' Python.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]

#: Shuffled mini-batches (NumPy), and a training run in PyTorch and in Keras: where nondeterminism would show.
TWICE = ["book/03-algorithms/sgd.ipynb", "book/05-practice/image-classification-pytorch.ipynb"]
#: scikit-learn's bundled data, torch and TensorFlow imports, and a two-process torchrun over loopback.
OFFLINE = ["book/01-background/what-is-a-loss.ipynb", "book/08-trends/distributed.ipynb"]


#: Measured wall-clock times ("one epoch in 3.7 ms") are the one output that may differ between two runs.
_DURATION = re.compile(r" *\b\d+(\.\d+)?\s?(ms|µs|us|s)\b")


def _text_outputs(path: Path) -> list[str]:
    """Execute the notebook in its folder and return every text output (streams, text/plain, Markdown),
    with measured durations masked. A cell's stream output arrives in chunks that depend on timing, so each
    stream is joined per cell first (as the book does with ``nb_merge_streams``)."""
    notebook = nbformat.read(path, as_version=4)
    resources = {"metadata": {"path": str(path.parent)}}
    NotebookClient(notebook, timeout=180, kernel_name="python3", resources=resources).execute()
    texts = []
    for index, cell in enumerate(notebook.cells):
        streams: dict[str, str] = {}
        for output in cell.get("outputs", []):
            if output["output_type"] == "stream":
                streams[output["name"]] = streams.get(output["name"], "") + output["text"]
            elif "data" in output:
                texts += [
                    f"cell {index} {mime}: {_DURATION.sub(' <time>', output['data'][mime])}"
                    for mime in ("text/plain", "text/markdown")
                    if mime in output["data"]
                ]
        texts += [f"cell {index} {name}: {_DURATION.sub(' <time>', text)}" for name, text in streams.items()]
    return texts


@pytest.mark.slow
@pytest.mark.parametrize("notebook", TWICE)
def test_two_runs_print_the_same(notebook: str) -> None:
    first, second = (_text_outputs(ROOT / notebook) for _ in range(2))
    assert first, f"{notebook} printed nothing"
    differing = [f"{a}\n  != {b}" for a, b in zip(first, second) if a != b]
    assert len(first) == len(second) and not differing, "\n".join(differing[:5])


def _network_namespace_works() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    probe = subprocess.run(["unshare", "-rn", "sh", "-c", "ip link set lo up"], capture_output=True)
    return probe.returncode == 0


# Installed in the kernels' Python through PYTHONPATH where no network namespace can be made.
_SOCKET_GUARD = textwrap.dedent(
    """
    import ipaddress, socket

    _connect = socket.socket.connect

    def _loopback_only(self, address):
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and self.family in (socket.AF_INET, socket.AF_INET6):
            if not ipaddress.ip_address(socket.gethostbyname(host)).is_loopback:
                raise OSError(f"network disabled by the offline test: {address}")
        return _connect(self, address)

    socket.socket.connect = _loopback_only
    """
)


def _offline_command(command: list[str], tmp_path: Path) -> tuple[list[str], dict[str, Any]]:
    """``command`` run without a network: in a fresh network namespace, or with the socket guard."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    if _network_namespace_works():
        quoted = " ".join(f"'{part}'" for part in command)
        return ["unshare", "-rn", "sh", "-c", f"ip link set lo up && exec {quoted}"], env
    (tmp_path / "sitecustomize.py").write_text(_SOCKET_GUARD, encoding="utf-8")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tmp_path), env.get("PYTHONPATH")]))
    return command, env


@pytest.mark.slow
def test_notebooks_run_without_a_network(tmp_path: Path) -> None:
    probe = [sys.executable, "-c", "import socket; socket.create_connection(('1.1.1.1', 53), timeout=3)"]
    command, env = _offline_command(probe, tmp_path)
    refused = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
    assert refused.returncode != 0, "the offline set-up still reaches the network"
    run = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-o",
        "addopts=",
        "--nbmake",
        "--nbmake-timeout=180",
        *OFFLINE,
    ]
    command, env = _offline_command(run, tmp_path)
    result = subprocess.run(command, env=env, capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, f"offline run failed:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}"
    assert f"{len(OFFLINE)} passed" in result.stdout, result.stdout[-2000:]
