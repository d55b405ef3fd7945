"""Run `vocoder` commands in child processes with an address-space limit.

A server process imports vocoder and its heavy dependencies once (torch alone
takes seconds and ~3 GiB of address space), then forks one child per case.
Each child sets RLIMIT_AS to the address space it inherited plus an
allowance, sends its stdout and stderr (file descriptors, so C libraries'
output is caught too) to files, runs ``vocoder.cli.main`` and reports its
exit status and its peak resident memory. A regression that allocates
gigabytes therefore fails inside the child (MemoryError, or a signal),
never takes the machine down, and shows up as a wrong exit status.

The server does no torch computation before forking, so no OpenMP thread
pool exists to be inherited half-initialised.

Used by tests as ``run_cases([...])``; run as a script it is the server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

GiB = 2**30
MiB = 2**20


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _child(case: dict, out_path: str, err_path: str, report_fd: int) -> None:
    import resource

    os.chdir(case["cwd"])
    for key, value in case.get("env", {}).items():
        os.environ[key] = value
    # Children get their own address-space allowance on top of what they inherit.
    vm = _status_kib("VmSize") * 1024
    limit = vm + int(case["address_space"])
    base_vm = vm
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    out_fd = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    err_fd = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(out_fd, 1)
    os.dup2(err_fd, 2)
    # As Python sets them up: stdout strict, stderr backslashreplace.
    sys.stdout = os.fdopen(os.dup(1), "w", buffering=1)
    sys.stderr = os.fdopen(os.dup(2), "w", buffering=1, errors="backslashreplace")
    base = _rss_bytes()
    code: int | str
    try:
        from vocoder.cli import main

        code = main(case["argv"])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException as exc:  # noqa: BLE001 - reported, not hidden
        code = f"raised {type(exc).__name__}"
    sys.stdout.flush()
    sys.stderr.flush()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    report = {"code": code, "base_rss": base, "peak_rss": peak, "base_vm": base_vm,
              "peak_vm": _status_kib("VmPeak") * 1024}
    os.write(report_fd, json.dumps(report).encode())
    os._exit(0)


def serve(cases: list[dict]) -> list[dict]:
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, case in enumerate(cases):
            out_path, err_path = os.path.join(tmp, f"{i}.out"), os.path.join(tmp, f"{i}.err")
            read_fd, write_fd = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(read_fd)
                try:
                    _child(case, out_path, err_path, write_fd)
                finally:
                    os._exit(70)
            os.close(write_fd)
            chunks = []
            while chunk := os.read(read_fd, 65536):
                chunks.append(chunk)
            os.close(read_fd)
            _, status = os.waitpid(pid, 0)
            report = json.loads(b"".join(chunks) or b"{}")
            if os.WIFSIGNALED(status):
                report["code"] = f"killed by signal {os.WTERMSIG(status)}"
            elif "code" not in report:
                report["code"] = f"child exited {os.WEXITSTATUS(status)} without a report"
            report["stdout"] = Path(out_path).read_text(errors="replace") if os.path.exists(out_path) else ""
            report["stderr"] = Path(err_path).read_text(errors="replace") if os.path.exists(err_path) else ""
            results.append(report)
    return results


def _preload() -> None:
    """Import what any command may import, so children measure their job."""
    import matplotlib.pyplot  # noqa: F401
    import safetensors.torch  # noqa: F401
    import torch  # noqa: F401

    import vocoder.cli  # noqa: F401
    import vocoder.evaluation.bench  # noqa: F401
    import vocoder.inversion.griffinlim  # noqa: F401
    import vocoder.inversion.hifigan  # noqa: F401
    import vocoder.inversion.pghi  # noqa: F401
    import vocoder.inversion.pghi_fgla  # noqa: F401
    import vocoder.pipeline  # noqa: F401
    import vocoder.training.cli  # noqa: F401


def run_cases(cases: list[dict], timeout: float = 600) -> list[dict]:
    """Each case: {"argv": [...], "cwd": str, "address_space": bytes, "env": {...}}.

    Returns, per case: code (int, or a string saying how the child died),
    stdout, stderr, base_rss and peak_rss (bytes; peak is ru_maxrss of the child), base_vm and
    peak_vm (address space at the start and its peak).
    """
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(Path(__file__).parent), env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, __file__], input=json.dumps(cases), capture_output=True, text=True,
                          timeout=timeout, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"harness failed ({done.returncode}): {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    cases = json.loads(sys.stdin.read())
    _preload()
    results = serve(cases)
    sys.stdout.write("\n" + json.dumps(results) + "\n")
