"""The deployment files hold to docs/deployment.md, without Docker: the Dockerfile, compose.yaml, .dockerignore
and the Makefile's Python check, read (and where it can be, run) as they are."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

import pytest
import yaml
from loopback import LoopbackServer
from slack_harness import free_port
from sqlalchemy.engine import make_url

from bot import cli
from bot.store.url import url_problem

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTED_CMD = ["python", "-m", "bot", "serve", "--http", "--host", "0.0.0.0", "--port", "3000"]


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    found, pending = [], ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        whole = (pending + line).strip()
        pending = ""
        name, _, args = whole.partition(" ")
        found.append((name.upper(), args.strip()))
    return found


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return instructions((ROOT / "Dockerfile").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def final_stage(dockerfile) -> list[tuple[str, str]]:
    last_from = max(i for i, (name, _) in enumerate(dockerfile) if name == "FROM")
    return dockerfile[last_from:]


def one(stage, name: str) -> str:
    values = [args for instruction, args in stage if instruction == name]
    assert values, f"the Dockerfile's final stage has no {name}"
    return values[-1]  # the one that counts


def cmd_of(stage) -> list[str]:
    return json.loads(one(stage, "CMD"))


def healthcheck_cmd(stage) -> list[str]:
    options, _, command = one(stage, "HEALTHCHECK").partition("CMD ")
    return json.loads(command)


def dockerfile_env(stage) -> dict[str, str]:
    env = {}
    for instruction, args in stage:
        if instruction != "ENV":
            continue
        words = shlex.split(args)
        if words and "=" not in words[0]:  # the old form: ENV NAME value
            env[words[0]] = " ".join(words[1:])
        else:
            env.update(word.split("=", 1) for word in words)
    return env


def documented_settings() -> set[str]:
    """Every NAME in a `NAME=` or `# NAME=` line of .env.example."""
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def fixit_service(compose) -> dict:
    (service,) = [s for s in compose["services"].values() if "build" in s]
    return service


def service_env(service) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: str(v) for k, v in env.items()}


def interpolated(text: str) -> str:
    """Compose's ${NAME:-default} / ${NAME-default} / ${NAME} with nothing set: each default, or ''."""
    return re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::?-([^}]*))?\}", lambda m: m.group(1) or "", text)


# --- the Dockerfile ---

def test_cmd_is_the_documented_command_line_and_parses_with_the_real_parser(final_stage):
    cmd = cmd_of(final_stage)
    assert cmd == DOCUMENTED_CMD
    assert " ".join(cmd) in (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")
    assert cmd[:3] == ["python", "-m", "bot"]
    args = cli.build_parser().parse_args(cmd[3:])
    assert args.handler is cli.cmd_serve
    assert (args.http, args.host, args.port, args.workers) == (True, "0.0.0.0", 3000, 1)


def test_every_stage_is_python_312_slim(dockerfile):
    images = [args.split()[0] for name, args in dockerfile if name == "FROM"]
    assert images and all(image == "python:3.12-slim" for image in images)


def test_the_package_is_installed_not_editable_with_the_postgres_driver(final_stage):
    installs = [args for name, args in final_stage if name == "RUN" and "pip install" in args]
    assert installs
    assert not any(re.search(r"\s(-e|--editable)\s", args) for args in installs)
    assert any("[postgres]" in args or "psycopg[binary]" in args for args in installs)


def test_it_runs_as_a_user_that_is_not_root_and_can_write_its_state(final_stage):
    user = one(final_stage, "USER").split(":")[0]
    assert user not in ("root", "0", "")
    owned = set()
    for name, args in final_stage:
        if name == "RUN":
            for owner, paths in re.findall(r"chown\s+(\S+)\s+([^&;]+)", args):
                if owner.split(":")[0] == user:
                    owned.update(paths.split())
    env = dockerfile_env(final_stage)
    database = make_url(env["FIXIT_DATABASE_URL"]).database
    assert database.startswith("/"), "the image's SQLite file has an absolute path"
    workdir = one(final_stage, "WORKDIR")
    # where the store and the last good KB go, and the working directory (for relative paths from a .env)
    for needed in (str(PurePosixPath(database).parent), str(PurePosixPath(env["FIXIT_KB_LAST_GOOD"]).parent),
                   workdir):
        assert needed in owned, f"{needed} is not made the app user's ({user})"


def test_the_knowledge_base_is_in_the_image_where_settings_look(final_stage):
    workdir = one(final_stage, "WORKDIR")
    copies = [args.split() for name, args in final_stage if name == "COPY" and not args.startswith("--from")]
    assert ["knowledge", "./knowledge"] in copies
    # FIXIT_KB_DIR names it; left empty (a .env copied from .env.example), cwd/knowledge is the same folder
    assert dockerfile_env(final_stage)["FIXIT_KB_DIR"] == f"{workdir}/knowledge"


def test_the_port_exposed_is_the_cmds(final_stage):
    assert one(final_stage, "EXPOSE").split() == [DOCUMENTED_CMD[-1]]


def test_healthcheck_asks_readyz_on_the_cmds_port_with_python(final_stage):
    check = healthcheck_cmd(final_stage)
    assert check[:2] == ["python", "-c"], "slim images have no curl: the check is python's urllib"
    (url,) = re.findall(r"https?://[^'\"\s]+", check[2])
    parsed = urlparse(url)
    assert parsed.path == "/readyz"
    assert parsed.port == int(cmd_of(final_stage)[-1])
    assert parsed.hostname in ("127.0.0.1", "localhost")


class Readiness(LoopbackServer):
    """/readyz answering with `status`, as Fixit's would."""

    def __init__(self, status: int) -> None:
        self.status = status
        super().__init__()

    def respond(self, method, path, headers, body):
        return (self.status if path == "/readyz" else 404), {}, b"{}"


@pytest.mark.parametrize("status, healthy", [(200, True), (503, False)])
def test_healthcheck_command_passes_on_200_and_fails_on_503(final_stage, status, healthy):
    server = Readiness(status)
    try:
        code = healthcheck_cmd(final_stage)[2].replace(":3000/", f":{server.port}/")
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30)
        assert (result.returncode == 0) is healthy, result.stderr.decode()[-500:]
    finally:
        server.close()


def test_healthcheck_command_fails_when_nothing_listens(final_stage):
    code = healthcheck_cmd(final_stage)[2].replace(":3000/", f":{free_port()}/")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30).returncode != 0


def test_no_secrets_in_the_image(dockerfile):
    for name, args in dockerfile:
        if name in ("ENV", "ARG"):
            assert not re.search(r"TOKEN|SECRET|PASSWORD", args, flags=re.IGNORECASE), args
    assert not any(name == "COPY" and ".env" in args.split() for name, args in dockerfile)


def test_dockerignore_leaves_out_local_state_and_keeps_what_the_build_copies(dockerfile):
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.startswith("#")]
    for needed in (".venv", ".git", ".env", "*.db", ".fixit", "tests", ".pytest_cache", ".ruff_cache"):
        assert needed in patterns, f".dockerignore lacks {needed}"
    excluded = [p for p in patterns if not p.startswith("!")]
    for name, args in dockerfile:
        if name == "COPY" and not args.startswith("--from"):
            for source in args.split()[:-1]:
                assert not any(fnmatch(source, p) for p in excluded), f"{source} is copied but ignored"


# --- environment variables: only settings .env.example documents ---

def test_every_variable_the_image_and_compose_set_for_fixit_is_documented(final_stage, compose):
    documented = documented_settings()
    set_here = set(dockerfile_env(final_stage)) | set(service_env(fixit_service(compose)))
    assert set_here, "nothing set? the parsing is wrong"
    assert set_here <= documented, f"not in .env.example: {sorted(set_here - documented)}"


# --- compose.yaml ---

def test_compose_database_url_is_psycopg_to_the_postgres_service(compose):
    url = make_url(interpolated(service_env(fixit_service(compose))["FIXIT_DATABASE_URL"]))
    assert url.drivername == "postgresql+psycopg"
    assert url.host in compose["services"] and compose["services"][url.host]["image"] == "postgres:16"
    assert url_problem(url.render_as_string(hide_password=False)) == ""   # a URL the store can open


def test_compose_starts_fixit_once_postgres_is_healthy(compose):
    fixit = fixit_service(compose)
    (db_name,) = [name for name, s in compose["services"].items() if str(s.get("image", "")).startswith("postgres")]
    assert fixit["depends_on"][db_name]["condition"] == "service_healthy"
    test = compose["services"][db_name]["healthcheck"]["test"]
    assert "pg_isready" in (test if isinstance(test, str) else " ".join(test))


def test_compose_secrets_from_env_file_port_published_and_postgres_data_in_a_named_volume(compose, final_stage):
    fixit = fixit_service(compose)
    env_files = fixit["env_file"] if isinstance(fixit["env_file"], list) else [fixit["env_file"]]
    assert ".env" in [f if isinstance(f, str) else f["path"] for f in env_files]
    port = cmd_of(final_stage)[-1]
    assert f"{port}:{port}" in [str(p) for p in fixit["ports"]]
    (db,) = [s for s in compose["services"].values() if str(s.get("image", "")).startswith("postgres")]
    mounts = dict(str(v).split(":", 1) for v in db["volumes"])
    source = {target: source for source, target in mounts.items()}["/var/lib/postgresql/data"]
    assert source in (compose.get("volumes") or {}), "postgres data is not in a named volume"
    assert not any(re.search(r"xox[abp]-|TOKEN\s*:", json.dumps(s)) for s in compose["services"].values())


# --- the Makefile's Python check ---

needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def fake_python(folder: Path, name: str, script: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n" + script, encoding="utf-8")
    path.chmod(0o755)
    return path


def make(tmp: Path, *args: str, path_first: Path | None = None) -> subprocess.CompletedProcess:
    """`make ARGS` in a copy of the Makefile, the fake interpreters' folder first on PATH."""
    for name in ("Makefile", "pyproject.toml"):
        if not (tmp / name).exists():
            shutil.copy(ROOT / name, tmp / name)
    path = os.pathsep.join(filter(None, [str(path_first or ""), os.environ.get("PATH", "")]))
    return subprocess.run(["make", "--no-print-directory", *args], cwd=tmp, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "PATH": path})


@needs_make
@pytest.mark.parametrize("goal", ["test", "run"])
def test_make_with_an_old_python_on_path_stops_in_one_line_and_makes_no_venv(tmp_path, goal):
    fake_python(tmp_path / "bin", "python3", "echo 3.9\n")
    result = make(tmp_path, goal, path_first=tmp_path / "bin")
    assert result.returncode != 0
    assert (f"Fixit needs Python 3.11+; found 3.9 at {tmp_path / 'bin' / 'python3'} — run "
            f"`make PYTHON=python3.12 {goal}`") in result.stderr
    assert not (tmp_path / ".venv").exists()


@needs_make
def test_make_with_python_named_on_the_command_line(tmp_path):
    old = fake_python(tmp_path / "old", "python3.10", "echo 3.10\n")
    result = make(tmp_path, f"PYTHON={old}", "test")
    assert result.returncode != 0 and f"found 3.10 at {old}" in result.stderr
    assert not (tmp_path / ".venv").exists()


@needs_make
def test_make_with_a_venv_built_by_an_old_python_says_make_clean(tmp_path):
    fake_python(tmp_path / ".venv" / "bin", "python", "echo 3.9\n")
    result = make(tmp_path, "test")
    assert result.returncode != 0
    assert "fixit: .venv was built with Python 3.9; Fixit needs Python 3.11+ — run `make clean`" in result.stderr
    assert sorted(p.name for p in (tmp_path / ".venv").iterdir()) == ["bin"]   # left as it was


@needs_make
def test_make_python_check_passes_with_this_python_and_creates_nothing(tmp_path):
    result = make(tmp_path, f"PYTHON={sys.executable}", "python-check")
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / ".venv").exists()


VENV_WITH_FAILING_PIP = """\
if [ "$1" = "-m" ] && [ "$2" = venv ]; then
  mkdir -p "$3/bin"
  printf '#!/bin/sh\\nif [ "$1" = -c ]; then echo 3.12; exit 0; fi\\n' > "$3/bin/python"
  printf 'echo "pip: no network" >&2; exit 1\\n' >> "$3/bin/python"
  chmod +x "$3/bin/python"; exit 0
fi
echo 3.12
"""

VENV_THAT_FAILS = """\
if [ "$1" = "-m" ] && [ "$2" = venv ]; then mkdir -p "$3/bin"; : > "$3/bin/python"; echo "no ensurepip" >&2; exit 1; fi
echo 3.12
"""


@needs_make
def test_a_failed_pip_install_leaves_no_stamp_and_says_the_next_run_retries(tmp_path):
    fake_python(tmp_path / "bin", "python3", VENV_WITH_FAILING_PIP)
    for _ in range(2):  # the second run tries again rather than believing it installed
        result = make(tmp_path, "test", path_first=tmp_path / "bin")
        assert result.returncode != 0
        assert "pip: no network" in result.stderr
        assert "pip install into .venv failed" in result.stderr and "next make retries" in result.stderr
        assert not (tmp_path / ".venv" / ".installed-stamp").exists()


@needs_make
def test_a_failed_venv_creation_removes_the_half_built_venv(tmp_path):
    fake_python(tmp_path / "bin", "python3", VENV_THAT_FAILS)
    result = make(tmp_path, "run", path_first=tmp_path / "bin")
    assert result.returncode != 0
    assert "creating .venv with python3 failed" in result.stderr and "removed" in result.stderr
    assert not (tmp_path / ".venv").exists()
