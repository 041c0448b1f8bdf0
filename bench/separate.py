"""Time `stemtube separate` against the `demucs` command line on the same song.

Both programs separate the same 60 s of audio with the same full-size htdemucs
network, loaded from the same folder, with the same settings (shifts 1,
overlap 0.25, every core, CPU unless --device says otherwise). The published
weights cannot be downloaded everywhere, so the network has the published
architecture (41,984,456 parameters) and random weights, saved in demucs's
published file layout by tests/demucs_models.py; the amount of work, and so
the time and memory, do not depend on the weights' values.

Each run is a fresh process, timed from start to exit; its peak memory is the
maximum resident set size the kernel reports for it when it is waited for
(os.wait4), which covers any process it started and waited for.

The input is the first 60 s of ../shared/testdata/songs/pop_c_major/
mixture.flac (beside the repository) when that file exists and is long
enough, else of tests/data/real/vibe_ace.ogg (61.5 s); without
../shared/testdata the bench says so and exits 0. --input picks another
file.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
TESTDATA = ROOT.parent / "shared" / "testdata"
PREFERRED_INPUT = TESTDATA / "songs" / "pop_c_major" / "mixture.flac"
FALLBACK_INPUT = ROOT / "tests" / "data" / "real" / "vibe_ace.ogg"
MODEL = "htdemucs"


@dataclass(frozen=True)
class Run:
    """One timed process: which program, its wall time and peak memory."""

    program: str
    wall_s: float
    peak_mb: float
    stems: int


@dataclass(frozen=True)
class Program:
    """A command line to time, where it writes its stems, and their pattern."""

    name: str
    command: list[str]
    out: Path
    stems: str


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/separate.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="It prints a Markdown table: the wall time and peak memory of each\n"
        "program, and stemtube's wall time as a multiple of demucs's.",
    )
    parser.add_argument(
        "--input",
        type=Path,
        help="audio file to cut the excerpt from (default: see above)",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=60.0,
        help="length of the excerpt both programs separate (default: 60)",
    )
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="runs of each program, alternating; the table shows the median, "
        "the fastest and the highest peak memory (default: 1)",
    )
    parser.add_argument(
        "--device",
        choices=["cpu", "cuda"],
        default="cpu",
        help="device both programs separate on (default: cpu)",
    )
    parser.add_argument(
        "--no-warmup",
        dest="warmup",
        action="store_false",
        help="skip the untimed 2 s run of each program that comes first",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        help="keep the models, settings, excerpt and stems in this folder",
    )
    return parser.parse_args(argv)


def pick_input(args: argparse.Namespace) -> Path | None:
    """The song to cut the excerpt from, or None when there is no test data."""
    if args.input:
        return args.input
    if not TESTDATA.is_dir():
        return None
    if not PREFERRED_INPUT.is_file():
        return FALLBACK_INPUT
    if sf.info(PREFERRED_INPUT).duration < args.seconds:
        print(
            f"{PREFERRED_INPUT} is shorter than {args.seconds:g} s; "
            f"using {FALLBACK_INPUT.name}",
            file=sys.stderr,
        )
        return FALLBACK_INPUT
    return PREFERRED_INPUT


def write_excerpt(song: Path, seconds: float, target: Path) -> float:
    """Write the song's first ``seconds`` as 16-bit stereo WAV at 44.1 kHz."""
    from stemtube.media import CANONICAL_RATE, decode

    audio = decode(song)[:, : round(seconds * CANONICAL_RATE)]
    sf.write(target, audio.T, CANONICAL_RATE, subtype="PCM_16")
    return audio.shape[1] / CANONICAL_RATE


def build_full_size_repo(folder: Path) -> Path:
    """Write a full-size random-weight htdemucs in demucs's published layout."""
    sys.path.insert(0, str(ROOT / "tests"))
    import demucs_models

    demucs_models.save_model(
        demucs_models.build_model(MODEL, tiny=False), MODEL, folder
    )
    return folder


def write_settings(path: Path, data_dir: Path, device: str) -> None:
    """A stemtube.toml whose <data_dir>/models/demucs is the shared repo."""
    path.write_text(
        # A JSON string is a valid TOML basic string, quotes and all.
        f"[storage]\ndata_dir = {json.dumps(str(data_dir))}\n\n"
        f'[separation]\ndevice = "{device}"\nshifts = 1\noverlap = 0.25\n',
        encoding="utf-8",
    )


def stemtube_command() -> list[str]:
    found = shutil.which("stemtube")
    return [found] if found else [sys.executable, "-m", "stemtube.cli"]


def timed(program: Program) -> Run:
    """Run ``program`` in a fresh process; stop the bench if it fails."""
    shutil.rmtree(program.out, ignore_errors=True)
    # A file, not a pipe: progress bars could fill a pipe nobody reads yet.
    with tempfile.TemporaryFile("w+") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            program.command, stdout=subprocess.DEVNULL, stderr=log
        )
        # wait4 gives this child's own rusage, so each run is measured alone.
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            log.seek(0)
            errors = log.read()[-4000:]
            sys.exit(f"{program.name} failed ({process.returncode}):\n{errors}")
    stems = len(list(program.out.glob(program.stems)))
    # Linux reports ru_maxrss in KiB.
    return Run(program.name, wall, usage.ru_maxrss / 1024, stems)


def machine() -> str:
    """CPU count and model, and memory, as /proc describes this machine."""
    cpu = "unknown CPU"
    memory = "unknown memory"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 2**20:.1f} GiB RAM"
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({cpu}), {memory}"


def table(runs: list[Run]) -> str:
    """A Markdown table of each program's runs, and the ratio of their medians.

    The fastest run is shown beside the median: other load on the machine
    only ever slows a run down.
    """
    rows = [
        "| program | runs | median wall (s) | fastest wall (s) | peak memory (MB) "
        "| stems |",
        "|---|---|---|---|---|---|",
    ]
    medians: dict[str, float] = {}
    for program in ("stemtube separate", "demucs"):
        own = [run for run in runs if run.program == program]
        medians[program] = statistics.median(run.wall_s for run in own)
        fastest = min(run.wall_s for run in own)
        peak = max(run.peak_mb for run in own)
        rows.append(
            f"| {program} | {len(own)} | {medians[program]:.1f} | {fastest:.1f} "
            f"| {peak:.0f} | {own[0].stems} |"
        )
    ratio = medians["stemtube separate"] / medians["demucs"]
    rows.append(f"\nstemtube / demucs median wall time: {ratio:.2f}")
    return "\n".join(rows)


def programs(
    work: Path, repo: Path, settings: Path, audio: Path, device: str
) -> list[Program]:
    """`stemtube separate` and `demucs`, set to separate ``audio`` alike."""
    stemtube_out = work / "stemtube-out"
    demucs_out = work / "demucs-out"
    return [
        Program(
            "stemtube separate",
            [
                *stemtube_command(),
                *("--config", str(settings), "separate", str(audio)),
                *("--model", MODEL, "--out", str(stemtube_out)),
            ],
            stemtube_out,
            "*.wav",
        ),
        Program(
            "demucs",
            [
                *(sys.executable, "-m", "demucs", "--repo", str(repo)),
                *("-n", MODEL, "-d", device, "-o", str(demucs_out), str(audio)),
            ],
            demucs_out,
            f"{MODEL}/*/*.wav",
        ),
    ]


def bench(args: argparse.Namespace, song: Path, work: Path) -> tuple[list[Run], float]:
    """Prepare the shared models, settings and excerpt; time both programs.

    Gives the runs and the excerpt's length in seconds.
    """
    data_dir = work / "data"
    repo = build_full_size_repo(data_dir / "models" / "demucs")
    settings = work / "stemtube.toml"
    write_settings(settings, data_dir, args.device)
    excerpt = work / "excerpt.wav"
    length = write_excerpt(song, args.seconds, excerpt)
    print(f"input: first {length:.1f} s of {song}", file=sys.stderr)
    print(f"model: full-size {MODEL}, random weights, in {repo}", file=sys.stderr)

    if args.warmup:
        # The first process to import torch reads its libraries from disk;
        # a short untimed run of each keeps that out of the comparison.
        warmup = work / "warmup.wav"
        write_excerpt(song, 2.0, warmup)
        for program in programs(work, repo, settings, warmup, args.device):
            timed(program)

    runs = []
    timed_programs = programs(work, repo, settings, excerpt, args.device)
    for attempt in range(1, args.runs + 1):
        for program in timed_programs:
            run = timed(program)
            print(
                f"run {attempt}: {program.name}: {run.wall_s:.1f} s, "
                f"{run.peak_mb:.0f} MB, {run.stems} stems",
                file=sys.stderr,
            )
            runs.append(run)
    return runs, length


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    song = pick_input(args)
    if song is None:
        print(f"{TESTDATA} is absent; nothing to benchmark.")
        return 0
    if not song.is_file():
        sys.exit(f"no such file: {song}")

    load = os.getloadavg()[0]
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        runs, length = bench(args, song, args.keep.resolve())
    else:
        with tempfile.TemporaryDirectory(prefix="stemtube-bench-") as work:
            runs, length = bench(args, song, Path(work))

    print(f"machine: {machine()}")
    print(f"load average before / after: {load:.2f} / {os.getloadavg()[0]:.2f}")
    print(f"input: first {length:.1f} s of {song.name}, device {args.device}\n")
    print(table(runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
