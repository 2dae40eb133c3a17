"""Settings are declared once (`versa.settings.Settings`): every variable Versa reads is declared there
with a default and a description, nothing else restates a default, and the command line builds its
settings from flags over the environment instead of reading or writing `os.environ`."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
from pathlib import Path

import pytest

from versa.cli.main import main
from versa.cli.main import settings as cli_settings
from versa.render.engine import Renderer
from versa.settings import Settings, SettingsError, env_name, settings_table
from versa.web.service import ServiceConfig

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "shared" / "versa"
DECLARED = {env_name(name) for name in Settings.model_fields}
THIRD_PARTY = {
    # Powertools' own switches: `versa serve` quiets them (setdefault) before the handler is imported,
    # and versa.web.api honours the metrics one on its single-metric path as Powertools does.
    "POWERTOOLS_METRICS_DISABLED",
    "POWERTOOLS_TRACE_DISABLED",
    "POWERTOOLS_LOG_LEVEL",
}
VERSA_NAME = re.compile(r"\bVERSA_[A-Z][A-Z0-9_]*")


def _is_environ(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
        isinstance(node, ast.Name) and node.id == "environ"
    )


def environment_accesses(tree: ast.AST) -> list[tuple[int, str | None]]:
    """(line, variable name or None when not a literal) of every os.environ / os.getenv access."""
    found: list[tuple[int, str | None]] = []
    for node in ast.walk(tree):
        key: ast.AST | None = None
        if isinstance(node, ast.Subscript) and _is_environ(node.value):
            key = node.slice
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and (
                (_is_environ(node.func.value) and node.func.attr in ("get", "setdefault", "pop"))
                or (node.func.attr == "getenv" and isinstance(node.func.value, ast.Name) and node.func.value.id == "os")
            )
        ):
            key = node.args[0] if node.args else None
        elif isinstance(node, ast.Compare) and any(_is_environ(c) for c in node.comparators):
            key = node.left  # "NAME" in os.environ
        elif isinstance(node, ast.Name) and node.id == "getenv":
            found.append((node.lineno, None))  # from os import getenv: a read this test cannot see
            continue
        else:
            continue
        name = key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None
        found.append((node.lineno, name))
    return found


def test_environment_access_finder_sees_every_spelling() -> None:
    # GIVEN each way of reading the environment
    source = (
        "import os\nfrom os import environ\n"
        "a = os.environ['VERSA_A']\nb = os.environ.get('VERSA_B')\nc = os.getenv('VERSA_C')\n"
        "d = environ.setdefault('VERSA_D', 'x')\ne = 'VERSA_E' in os.environ\nf = os.environ.get(NAME)\n"
    )

    # WHEN the finder walks it
    found = [name for _, name in environment_accesses(ast.parse(source))]

    # THEN it reports every one, and a computed name as None (the test below refuses those)
    assert sorted(found, key=str) == sorted(["VERSA_A", "VERSA_B", "VERSA_C", "VERSA_D", "VERSA_E", None], key=str)


def test_versa_reads_no_environment_variable_outside_settings() -> None:
    """Versa's own variables are read only by `Settings` (pydantic-settings); any other read is a named
    third-party switch."""
    # GIVEN every module of the package
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        # WHEN its environment accesses are listed
        for line, name in environment_accesses(ast.parse(path.read_text(encoding="utf-8"))):
            # THEN none is a Versa variable (Settings reads those) and every other one is a known switch
            if name is None or name not in THIRD_PARTY:
                offenders.append(f"{path.relative_to(ROOT)}:{line}: {name or '<computed name>'}")
    assert not offenders, "read these through versa.settings.Settings instead:\n" + "\n".join(offenders)


def test_every_versa_variable_named_anywhere_is_declared() -> None:
    """Help texts, messages, the SAM template and the README name only variables `Settings` declares."""
    # GIVEN every VERSA_* name written in the package, the deployed template and the README
    sources = [*sorted(PACKAGE.rglob("*.py")), ROOT / "template.yaml", ROOT / "README.md"]
    named = {
        (str(path.relative_to(ROOT)), name)
        for path in sources
        for name in VERSA_NAME.findall(path.read_text(encoding="utf-8"))
    }

    # WHEN compared with the declared settings
    undeclared = sorted(f"{where}: {name}" for where, name in named if name not in DECLARED)

    # THEN each one is declared (VERSA_SKIP_SAM belongs to the Makefile's test run, not to Versa)
    assert [u for u in undeclared if not u.endswith("VERSA_SKIP_SAM")] == []
    assert len(named) > 10, "the scan found almost nothing: the test would not test anything"


def test_every_setting_has_a_description_and_the_readme_table_is_current() -> None:
    # GIVEN the settings table as the README shows it
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = [line for line in readme.splitlines() if line.startswith(("| `VERSA_", "| `OPENAI_"))]

    # WHEN the table is generated from the declarations
    expected = [
        f"| `{name}` | {f'`{default}`' if default else 'unset'} | {description} |"
        for name, default, description in settings_table()
    ]

    # THEN every setting is described, and the README lists them all, in order, with the same defaults
    assert all(description for _, _, description in settings_table())
    assert shown == expected


def test_service_config_and_renderer_restate_no_default() -> None:
    # GIVEN the service's config and the renderer's constructor
    config_fields = dataclasses.fields(ServiceConfig)
    renderer_params = inspect.signature(Renderer).parameters

    # THEN the config's fields are settings without defaults of their own
    assert {f.name for f in config_fields} <= set(Settings.model_fields)
    assert all(f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING for f in config_fields)
    # AND the renderer's limits must be passed (composition.build_renderer passes the settings)
    for name in ("memo_size", "memo_bytes", "max_output_bytes", "max_work"):
        assert renderer_params[name].default is inspect.Parameter.empty, name

    # AND a config built from settings carries their values
    settings = Settings(
        require_signature=False, render_budget_ms=1234, copy_lease_seconds=99,
        unknown_brand_seconds=7.5, render_queue=3, copy_model="m1", visual_model="v1",
    )
    assert ServiceConfig.from_settings(settings) == ServiceConfig(False, 1234, 99, 7.5, 3, "m1", "v1")


def test_flags_override_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # GIVEN a packs directory and a state directory in the environment
    monkeypatch.setenv("VERSA_PACKS_DIR", str(tmp_path / "from-env"))
    monkeypatch.setenv("VERSA_STATE_DIR", str(tmp_path / "state"))

    # WHEN the command line builds its settings with and without the flag
    flagged = cli_settings(packs_dir=str(tmp_path / "from-flag"), require_signature=None)
    plain = cli_settings(packs_dir=None)

    # THEN a given flag wins, an absent one (None) leaves the environment's value
    assert flagged.packs_dir == tmp_path / "from-flag"
    assert plain.packs_dir == tmp_path / "from-env"
    assert flagged.state_dir == plain.state_dir == tmp_path / "state"
    assert flagged.require_signature is True


def test_a_bad_setting_is_named_with_its_value_and_origin(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a non-numeric memo size in the environment
    monkeypatch.setenv("VERSA_MEMO_ITEMS", "lots")

    # WHEN settings are built, with a bad flag value besides
    with pytest.raises(SettingsError) as err:
        cli_settings(aws_max_attempts=9)

    # THEN both are named, with the value and where it came from
    message = str(err.value)
    assert "VERSA_MEMO_ITEMS='lots' (environment)" in message
    assert "VERSA_AWS_MAX_ATTEMPTS=9 (flag)" in message and "less than or equal to 5" in message


def test_versa_sign_uses_the_state_dir_setting(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a state directory set in the environment
    monkeypatch.setenv("VERSA_STATE_DIR", str(tmp_path / "state"))

    # WHEN a URL is signed with the development key
    assert main(["sign", "/v1/acme/winter-sale.png"]) == 0

    # THEN the key was created (and read) there
    assert (tmp_path / "state" / "keys.json").is_file()
    assert str(tmp_path / "state" / "keys.json") in capsys.readouterr().err


@pytest.mark.parametrize(("value", "traceback"), [("1", True), ("true", True), ("0", False), ("", False)])
def test_versa_debug_is_a_boolean_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], value: str, traceback: bool
) -> None:
    # GIVEN a command that fails with an internal error, and VERSA_DEBUG set to a value
    monkeypatch.setenv("VERSA_DEBUG", value)

    def broken(args: object) -> int:
        raise KeyError("boom")

    monkeypatch.setattr("versa.cli.main.cmd_schema", broken)

    # WHEN it runs
    if traceback:
        # THEN with debugging on the exception escapes (a traceback)
        with pytest.raises(KeyError):
            main(["schema"])
    else:
        # THEN otherwise it is one line and exit status 70
        with pytest.raises(SystemExit) as exit_:
            main(["schema"])
        assert exit_.value.code == 70
        assert "internal error: KeyError" in capsys.readouterr().err
