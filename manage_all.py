#!/usr/bin/env python
"""Run Django management commands across the shop's three projects, and start them together.

    python manage_all.py migrate                    # manage.py migrate in user, product, billing
    python manage_all.py product createsuperuser    # in one project
    python manage_all.py up                         # keys, migrate, demo data, run all three
    python manage_all.py keys                       # dev signing keys under .keys/, if missing
    python manage_all.py keys --rotate SERVICE      # ... --list, --revoke SERVICE KID
    python manage_all.py ms-token --from billing --to product --scope products:read \\
        --method GET --path /api/products/          # one X-MS-TOKEN, for curl
    python manage_all.py ms-token --help            # any command's options (up, keys, product help, ...)
"""
from __future__ import annotations

import argparse
import ipaddress
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections import deque
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent
SERVICES = ("user", "product", "billing")
COLORS = {"user": "\033[36m", "product": "\033[35m", "billing": "\033[33m"}
RESET = "\033[0m"
HELP_FLAGS = {"-h", "--help"}
# `up`: how long the three may take to answer /healthz, and how much of a failed one's output to show.
READY_TIMEOUT_SECONDS = 60
LAST_LINES_SHOWN = 20


def _reexec_in_venv() -> None:
    """Use the repo's .venv when run with another interpreter, so `python manage_all.py` just works."""
    venv_python = REPO / ".venv" / "bin" / "python"
    if venv_python.exists() and Path(sys.prefix).resolve() != (REPO / ".venv").resolve():
        os.execv(str(venv_python), [str(venv_python), __file__, *sys.argv[1:]])


def project_dir(service: str) -> Path:
    return REPO / f"{service}_project"


def service_url(service: str) -> str:
    from service_kit.conf import service_url as configured_url  # one place knows the defaults

    return configured_url(service)


def _show(output: str | bytes | None, stream) -> None:
    if output:
        stream.write(output.decode(errors="replace") if isinstance(output, bytes) else output)
        stream.flush()


def manage(service: str, *args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
    command = [sys.executable, "manage.py", *args]
    result = subprocess.run(command, cwd=project_dir(service), **kwargs)
    if check and result.returncode != 0:
        # Whatever the caller captured is the only record of why it failed (the traceback).
        _show(result.stdout, sys.stdout)
        _show(result.stderr, sys.stderr)
        sys.exit(f"{service}: `manage.py {' '.join(args)}` failed with exit code {result.returncode}")
    return result


def has_command(service: str, name: str) -> bool:
    return any(project_dir(service).glob(f"*/management/commands/{name}.py"))


def manage_each(*args: str) -> None:
    """``manage.py <args>`` in every project at once; their outputs shown in order, as if run
    one after the other. Exits if one failed."""
    running = {
        service: subprocess.Popen(
            [sys.executable, "manage.py", *args], cwd=project_dir(service),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for service in SERVICES
    }
    failed = []
    for service, process in running.items():
        out, err = process.communicate()
        _show(out, sys.stdout)
        _show(err, sys.stderr)
        if process.returncode != 0:
            failed.append(service)
    if failed:
        sys.exit(f"`manage.py {' '.join(args)}` failed in {', '.join(failed)}")


def cmd_keys(argv: list[str]) -> int:
    """The library's ``ms_token_keys`` command, in every project or the one named."""
    parser = argparse.ArgumentParser(
        prog="manage_all.py keys",
        description="Create any missing signing key; or rotate, list or revoke keys (manage.py ms_token_keys).",
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--rotate", choices=SERVICES, metavar="SERVICE",
                        help="add a new key for SERVICE: published now, signing soon after")
    action.add_argument("--list", action="store_true", help="every key of every service: kid, created, state")
    action.add_argument("--revoke", nargs=2, metavar=("SERVICE", "KID"),
                        help="withdraw KID of SERVICE at once and for good (a key that may have leaked)")
    args = parser.parse_args(argv)
    if args.revoke:
        service, kid = args.revoke
        if service not in SERVICES:
            parser.error(f"--revoke: SERVICE must be one of {', '.join(SERVICES)}")
        return manage(service, "ms_token_keys", "--revoke", kid, check=False).returncode
    if args.list:
        manage_each("ms_token_keys", "--list")
        return 0
    manage_each("ms_token_keys")
    if args.rotate:
        manage(args.rotate, "ms_token_keys", "--rotate")
    return 0


def cmd_ms_token(argv: list[str]) -> int:
    """Delegates to the `ms_token` command of the issuing project, which holds its key."""
    if HELP_FLAGS & set(argv):
        # The command is the same in every project (the library's); its help, under our name.
        shown = manage(SERVICES[0], "ms_token", "--help", capture_output=True, text=True).stdout
        print(shown.replace("manage.py ms_token", "manage_all.py ms-token").replace(
            "this service's name", f"the service that signs: one of {', '.join(SERVICES)}"), end="")
        return 0
    try:
        issuer = argv[argv.index("--from") + 1]
    except (ValueError, IndexError):
        sys.exit("ms-token: --from SERVICE is required (python manage_all.py ms-token --help)")
    if issuer not in SERVICES:
        sys.exit(f"ms-token: --from must be one of {', '.join(SERVICES)}")
    return manage(issuer, "ms_token", *argv, check=False).returncode


def _pump(service: str, stream, last_lines: deque[str]) -> None:
    prefix = f"{COLORS[service]}{service:>7} |{RESET} " if sys.stdout.isatty() else f"{service:>7} | "
    for line in iter(stream.readline, b""):
        text = line.decode(errors="replace")
        last_lines.append(text)
        sys.stdout.write(prefix + text)
        sys.stdout.flush()


def answers_healthz(url: str) -> bool:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1, never a proxy
    try:
        with opener.open(f"{url}/healthz", timeout=2) as response:
            return response.status == 200
    except (OSError, ValueError):
        return False


def runserver_address(url: str) -> str:
    """runserver's ``addr:port`` for a service URL: an IPv6 host in brackets, the scheme's port
    when the URL names none."""
    address = urlsplit(url)
    host = address.hostname or "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{address.port or (443 if address.scheme == 'https' else 80)}"


def wait_until_listening(
    processes: dict[str, subprocess.Popen], *, timeout: float, stopping: threading.Event
) -> tuple[str, str] | None:
    """Waits until every service answers ``/healthz``. None when they all do (or Ctrl-C came);
    else the first that will not, and why."""
    waiting = list(processes)
    deadline = time.monotonic() + timeout
    while waiting and not stopping.is_set():
        for service in list(waiting):
            if processes[service].poll() is not None:
                return service, f"exited with code {processes[service].returncode}"
            if answers_healthz(service_url(service)):
                waiting.remove(service)
        if waiting and time.monotonic() > deadline:
            return waiting[0], f"did not answer {service_url(waiting[0])}/healthz within {timeout:g} s"
        stopping.wait(0.2)
    return None


def _stop(processes: dict[str, subprocess.Popen]) -> None:
    for process in processes.values():
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 8
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False  # any other name may resolve to an address others reach


def refuse_debug_beyond_loopback() -> None:
    """Debug mode's pages (URL patterns, tracebacks) are for the developer at the machine:
    ``up`` will not serve them on an address other machines can reach."""
    from service_kit.conf import env_bool

    if not env_bool("DJANGO_DEBUG", True):
        return
    exposed = [
        f"{service.upper()}_SERVICE_URL={service_url(service)}"
        for service in SERVICES
        if not is_loopback(urlsplit(service_url(service)).hostname)
    ]
    if exposed:
        sys.exit(
            f"manage_all up: refusing to run in debug mode on an address beyond loopback ({', '.join(exposed)}); "
            "set DJANGO_DEBUG=0 and DJANGO_SECRET_KEY, or use 127.0.0.1"
        )


def cmd_up(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="manage_all.py up",
        description="Prepare and run all three services: keys, migrate, demo data, then runserver for "
        "each at its *_SERVICE_URL. The URLs and the demo logins are printed once all three answer "
        "/healthz; if one does not come up, the others are stopped.",
    )
    parser.add_argument("--no-seed", action="store_true", help="skip the demo data")
    parser.add_argument("--ready-timeout", type=float, default=READY_TIMEOUT_SECONDS, metavar="SECONDS",
                        help=f"how long the services may take to answer /healthz (default {READY_TIMEOUT_SECONDS})")
    args = parser.parse_args(argv)

    refuse_debug_beyond_loopback()
    cmd_keys([])
    for service in SERVICES:
        print(f"==> {service}: migrate")
        manage(service, "migrate", "--noinput", "-v", "0")
    logins: list[str] = []
    if not args.no_seed:
        for service in SERVICES:
            if has_command(service, "seed_demo"):
                # Only stdout is read (for the logins); warnings and tracebacks reach the terminal.
                seeded = manage(service, "seed_demo", stdout=subprocess.PIPE, text=True).stdout
                print(seeded, end="")
                logins += [line.strip() for line in seeded.splitlines() if " login " in line]

    processes: dict[str, subprocess.Popen] = {}
    pumps: dict[str, threading.Thread] = {}
    last_lines = {service: deque(maxlen=LAST_LINES_SHOWN) for service in SERVICES}
    stopping = threading.Event()

    def on_signal(signum, frame):
        stopping.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        for service in SERVICES:
            bind = runserver_address(service_url(service))
            processes[service] = subprocess.Popen(
                [sys.executable, "manage.py", "runserver", bind],
                cwd=project_dir(service),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: we stop it (and its reloader) whole
            )
            pumps[service] = threading.Thread(
                target=_pump, args=(service, processes[service].stdout, last_lines[service]), daemon=True
            )
            pumps[service].start()
        failed = wait_until_listening(processes, timeout=args.ready_timeout, stopping=stopping)
        if failed:
            service, why = failed
            pumps[service].join(timeout=2)  # its last lines, read to the end if it exited
            print(f"\n{service} did not come up: {why}. Its last lines:", file=sys.stderr)
            for line in last_lines[service]:
                print(f"  {line}", end="", file=sys.stderr)
            print("Stopping the others.", file=sys.stderr)
            return 1
        if stopping.is_set():
            return 0
        print("\nServices:")
        for service in SERVICES:
            print(f"  {service:<8} {service_url(service)}/api/   admin: {service_url(service)}/admin/")
        if logins:
            print("Demo logins:")
            for line in logins:
                print(f"  {line}")
        print("Ctrl-C stops all three.\n", flush=True)
        while not stopping.is_set():
            for service, process in processes.items():
                if process.poll() is not None:
                    print(f"{service} exited with code {process.returncode}; stopping the others")
                    stopping.set()
            stopping.wait(0.5)
    finally:
        _stop(processes)
        print("all services stopped", flush=True)
    return 0


def drop_shared_database_url() -> None:
    """Plain DATABASE_URL is for a project deployed alone (the contract); here it would give
    the three services one database, so their children never see it."""
    if os.environ.pop("DATABASE_URL", None):
        print(
            "manage_all: ignoring DATABASE_URL, which would put the three services in one database;"
            " set USER_DATABASE_URL, PRODUCT_DATABASE_URL and BILLING_DATABASE_URL instead",
            file=sys.stderr,
        )


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return 0
    command, rest = argv[0], argv[1:]
    if command == "up":
        return cmd_up(rest)
    if command == "keys":
        return cmd_keys(rest)
    if command == "ms-token":
        return cmd_ms_token(rest)
    if command in SERVICES:
        if not rest:
            sys.exit(f"usage: manage_all.py {command} <manage.py command> [args]  (manage_all.py {command} help)")
        return manage(command, *rest, check=False).returncode
    if HELP_FLAGS & set(rest):
        # The same command's help in each project: once is enough.
        print(f"manage_all.py {command} runs `manage.py {command}` in {', '.join(SERVICES)}, one after the other.\n")
        return manage(SERVICES[0], *argv, check=False).returncode
    for service in SERVICES:
        print(f"==> {service}: manage.py {' '.join(argv)}", flush=True)
        manage(service, *argv)
    return 0


if __name__ == "__main__":
    _reexec_in_venv()
    os.environ.setdefault("MS_KEYS_DIR", str(REPO / ".keys"))  # wherever it is run from
    drop_shared_database_url()
    sys.exit(main(sys.argv[1:]))
