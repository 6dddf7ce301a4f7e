"""Audio analysis benchmark: decode and analysis speed per codec per core, and memory.

    .venv/bin/python bench/analysis_bench.py [--calls 4] [--seconds 300] [--memory-minutes 60]

For each Genesys recording format, renders `--calls` emulator calls of `--seconds` each with the
emulator's audio module (not timed), then times `callarchive.analysis.analyse` on each file, and
a bare PyAV decode of the same files for comparison, in this one process pinned to one core.
Speed is seconds of audio per second of CPU time ("times real time per core"). Memory: the
Python heap peak (tracemalloc, which numpy reports to) while analysing a short and a long WAV
call; streaming means the two peaks are about the same.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import av

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from callarchive.analysis import analyse
from genesys_emulator.audio import FORMATS, encode, plan_speech

TARGETS = {"WAV": 1000, "WAV_ULAW": 1000}  # x real time per core; the compressed codecs: 300
COMPRESSED_TARGET = 300


def render(folder: Path, format_id: str, seed: int, seconds: float) -> Path:
    path = folder / f"{format_id}-{seed}.{FORMATS[format_id].extension}"
    with path.open("wb") as sink:
        encode(plan_speech(seed, round(seconds * 1000)), seed, format_id, sink)
    return path


def cpu_seconds(action: object, path: Path) -> float:
    start = time.process_time()
    action(path)  # type: ignore[operator]
    return time.process_time() - start


def decode_only(path: Path) -> None:
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            frame.to_ndarray()


def speed(paths: list[Path], seconds: float, action: object) -> float:
    """Median over the files of audio seconds per CPU second (best of two runs per file)."""
    return statistics.median(
        seconds / min(cpu_seconds(action, p), cpu_seconds(action, p)) for p in paths
    )


def heap_peak_mib(path: Path) -> float:
    tracemalloc.start()
    analyse(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--memory-minutes", type=float, default=60.0)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, PyAV {av.__version__}; pinned to one core"
    )
    print(f"corpus: {args.calls} emulator calls of {args.seconds:g} s per format\n")
    print("| format | analyse, x real time per core | PyAV decode alone | target | met |")
    print("|---|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as folder:
        for format_id in FORMATS:
            paths = [render(Path(folder), format_id, s, args.seconds) for s in range(args.calls)]
            analysed = speed(paths, args.seconds, analyse)
            decoded = speed(paths, args.seconds, decode_only)
            target = TARGETS.get(format_id, COMPRESSED_TARGET)
            met = "yes" if analysed >= target else "NO"
            print(f"| {format_id} | {analysed:,.0f} | {decoded:,.0f} | {target:,} | {met} |")
            for path in paths:
                path.unlink()
        short = render(Path(folder), "WAV", 1, 60.0)
        long = render(Path(folder), "WAV", 2, args.memory_minutes * 60)
        print(
            f"\nheap peak while analysing (WAV): 1 min {heap_peak_mib(short):.1f} MiB, "
            f"{args.memory_minutes:g} min {heap_peak_mib(long):.1f} MiB "
            f"(file {long.stat().st_size / 2**20:.0f} MiB)"
        )
        print(
            f"stored waveform of the {args.memory_minutes:g} min call: "
            f"{len(analyse(long).waveform.to_bytes()):,} bytes"
        )


if __name__ == "__main__":
    main()
