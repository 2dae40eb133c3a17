"""`make deploy` deploys the architecture `make build` built (issue 8, class 8).

Each test lays out a small project in a temporary directory — the real scripts/sam-deploy.sh and
scripts/sam_arch.py, the real samconfig.toml (or a variant), and a `.aws-sam/build/` whose layers hold
files with real ELF headers for one CPU — records it as scripts/sam-build.sh does, then runs the deploy
script with a fake `sam` first on PATH: a test double of the CLI that records its arguments and talks to
nothing. The AWS side is not involved.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MACHINES = {"x86_64": 0x3E, "arm64": 0xB7}
FAKE_SAM = """#!/bin/sh
# A stand-in for SAM CLI: writes its arguments, one per line, and succeeds.
printf '%s\\n' "$@" > "$(dirname "$0")/sam-args"
"""
BUILT_TEMPLATE = """\
# What `sam build` writes (plain YAML), cut down to the parameter that matters here.
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Architecture:
    Type: String
    Default: x86_64
    AllowedValues:
    - arm64
    - x86_64
Resources:
  RenderFunction:
    Type: AWS::Serverless::Function
    Properties:
      Architectures:
      - Ref: Architecture
"""


def elf(machine: int) -> bytes:
    """The first bytes of a 64-bit little-endian ELF shared object for `machine`."""
    return b"\x7fELF\x02\x01\x01" + bytes(9) + (3).to_bytes(2, "little") + machine.to_bytes(2, "little") + bytes(44)


class Project:
    """A project directory with the deploy scripts, a samconfig and a fake build."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "scripts").mkdir(parents=True)
        for name in ("sam-deploy.sh", "sam_arch.py", "sam-build.sh"):
            shutil.copy2(ROOT / "scripts" / name, root / "scripts" / name)
        shutil.copy2(ROOT / "samconfig.toml", root / "samconfig.toml")
        self.bin = root / "fake-bin"
        self.bin.mkdir()
        (self.bin / "sam").write_text(FAKE_SAM, encoding="utf-8")
        (self.bin / "sam").chmod(0o755)
        self.build_dir = root / ".aws-sam" / "build"

    def build(self, deps: str = "x86_64", fribidi: str | None = None) -> None:
        """A build whose deps layer's extension modules are for `deps` and FriBiDi for `fribidi`."""
        shutil.rmtree(self.build_dir, ignore_errors=True)
        self.build_dir.mkdir(parents=True)
        (self.build_dir / "template.yaml").write_text(BUILT_TEMPLATE, encoding="utf-8")
        lib = self.build_dir / "FribidiLayer" / "lib"
        lib.mkdir(parents=True)
        (lib / "libfribidi.so.0").write_bytes(elf(MACHINES[fribidi or deps]))
        pil = self.build_dir / "DepsLayer" / "python" / "PIL"
        pil.mkdir(parents=True)
        wheel_arch = {"x86_64": "x86_64", "arm64": "aarch64"}[deps]
        (pil / f"_imaging.cpython-312-{wheel_arch}-linux-gnu.so").write_bytes(elf(MACHINES[deps]))
        (pil / "Image.py").write_text("# not a shared object\n")
        (self.build_dir / "RenderFunction").mkdir()
        (self.build_dir / "RenderFunction" / "app.py").write_text("from versa.web.api import lambda_handler\n")

    def record(self, arch: str) -> subprocess.CompletedProcess[str]:
        """What scripts/sam-build.sh runs after `sam build`."""
        return subprocess.run([sys.executable, "scripts/sam_arch.py", "record", ".aws-sam", arch],
                              cwd=self.root, capture_output=True, text=True, timeout=60, check=False)

    def deploy(self, *args: str) -> subprocess.CompletedProcess[str]:
        (self.bin / "sam-args").unlink(missing_ok=True)
        env = {"PATH": f"{self.bin}:/usr/bin:/bin", "SAM_VENV": str(self.root / "no-sam-venv"),
               "PYTHON": sys.executable, "HOME": str(self.root)}
        return subprocess.run(["bash", "scripts/sam-deploy.sh", *args], cwd=self.root, env=env,
                              capture_output=True, text=True, timeout=60, check=False)

    def sam_args(self) -> list[str] | None:
        """The fake sam's arguments, or None when it was not run."""
        path = self.bin / "sam-args"
        return path.read_text(encoding="utf-8").splitlines() if path.exists() else None

    def overrides(self) -> dict[str, str]:
        args = self.sam_args()
        assert args is not None, "sam was not run"
        assert args.count("--parameter-overrides") == 1, args
        text = args[args.index("--parameter-overrides") + 1]
        return {k: v.strip('"') for k, _, v in (pair.partition("=") for pair in text.split(" "))}

    def samconfig(self, overrides: str) -> None:
        path = self.root / "samconfig.toml"
        text = path.read_text(encoding="utf-8")
        start = text.index("parameter_overrides = ")
        end = text.index("\n", start)
        path.write_text(text[:start] + f"parameter_overrides = {overrides}" + text[end:], encoding="utf-8")


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(tmp_path / "versa")


def refused(done: subprocess.CompletedProcess[str], project: Project, *words: str) -> None:
    assert done.returncode != 0, done.stderr
    assert "sam-deploy: refused:" in done.stderr
    for word in words:
        assert word in done.stderr, done.stderr
    assert project.sam_args() is None, "sam ran although the deploy was refused"


# ---------------------------------------------------------------------------------------- recording


def test_record_pins_the_built_template_to_the_architecture_built(project: Project) -> None:
    project.build("x86_64")
    done = project.record("x86_64")
    assert done.returncode == 0, done.stderr
    param = yaml.safe_load((project.build_dir / "template.yaml").read_text())["Parameters"]["Architecture"]
    assert param["AllowedValues"] == ["x86_64"]
    assert param["Default"] == "x86_64"
    assert (project.root / ".aws-sam" / "versa-architecture").is_file()


def test_record_refuses_a_build_for_another_cpu_than_asked(project: Project) -> None:
    project.build("arm64")
    done = project.record("x86_64")
    assert done.returncode == 1
    assert "asked to build x86_64, but the build in .aws-sam/build is for arm64" in done.stderr
    assert not (project.root / ".aws-sam" / "versa-architecture").exists()


def test_record_refuses_layers_of_mixed_architectures(project: Project) -> None:
    # GIVEN x86_64 wheels but an arm64 FriBiDi library (e.g. a stale layer from another build)
    project.build("x86_64", fribidi="arm64")
    done = project.record("x86_64")
    assert done.returncode == 1
    assert "mixes architectures" in done.stderr
    assert "FribidiLayer: 1 arm64" in done.stderr and "DepsLayer: 1 x86_64" in done.stderr


def test_record_refuses_a_build_without_the_fribidi_library(project: Project) -> None:
    project.build("x86_64")
    (project.build_dir / "FribidiLayer" / "lib" / "libfribidi.so.0").unlink()
    done = project.record("x86_64")
    assert done.returncode == 1
    assert "libfribidi.so.0 is missing" in done.stderr


# ----------------------------------------------------------------------------------------- deploying


@pytest.mark.parametrize("arch", ["x86_64", "arm64"])
def test_deploy_passes_the_recorded_architecture_and_the_samconfig_overrides(project: Project, arch: str) -> None:
    project.build(arch)
    assert project.record(arch).returncode == 0
    done = project.deploy("--guided")
    assert done.returncode == 0, done.stderr
    args = project.sam_args()
    assert args is not None and args[:2] == ["deploy", "--guided"]
    assert project.overrides() == {"Stage": "prod", "MemorySize": "1024", "PriceClass": "PriceClass_100",
                                   "Architecture": arch}
    assert f"deploying the {arch} build" in done.stderr


def test_command_line_overrides_are_merged_over_the_samconfig(project: Project) -> None:
    project.build("x86_64")
    project.record("x86_64")
    done = project.deploy("--parameter-overrides", 'Stage=staging AlarmEmail="ops@example.com"',
                          "--parameter-overrides=Architecture=x86_64", "--no-confirm-changeset")
    assert done.returncode == 0, done.stderr
    assert project.overrides() == {"Stage": "staging", "MemorySize": "1024", "PriceClass": "PriceClass_100",
                                   "AlarmEmail": "ops@example.com", "Architecture": "x86_64"}
    assert "--no-confirm-changeset" in (project.sam_args() or [])


def test_samconfig_asking_for_another_architecture_is_refused(project: Project) -> None:
    project.build("x86_64")
    project.record("x86_64")
    project.samconfig('"Stage=\\"prod\\" Architecture=\\"arm64\\""')
    done = project.deploy()
    refused(done, project, "samconfig.toml [default.global.parameters] asks for Architecture=arm64",
            "is for x86_64", "ARCH=arm64 make build")


@pytest.mark.parametrize(
    "override",
    [["--parameter-overrides", "Architecture=arm64"], ["--parameter-overrides=Architecture=arm64"],
     ["--parameter-overrides", "ParameterKey=Architecture,ParameterValue=arm64"],
     ["--parameter-overrides", "Stage=prod", "--parameter-overrides", "Architecture='arm64'"]],
    ids=["short", "equals", "long-form", "second-option"],
)
def test_command_line_asking_for_another_architecture_is_refused(project: Project, override: list[str]) -> None:
    project.build("x86_64")
    project.record("x86_64")
    refused(project.deploy(*override), project, "the command line asks for Architecture=arm64")


def test_deploy_without_a_recorded_build_is_refused(project: Project) -> None:
    project.build("x86_64")  # e.g. a hand-run `sam build`: nothing recorded
    refused(project.deploy(), project, "versa-architecture", "run it first")


def test_a_build_changed_after_it_was_recorded_is_refused(project: Project) -> None:
    # GIVEN a recorded x86_64 build, then a `sam build` by hand that rewrote the template
    project.build("x86_64")
    project.record("x86_64")
    template = project.build_dir / "template.yaml"
    template.write_text(template.read_text().replace("- x86_64", "- arm64\n    - x86_64"))
    refused(project.deploy(), project, "changed since `make build` recorded it")


def test_binaries_swapped_after_the_record_are_refused(project: Project) -> None:
    project.build("x86_64")
    project.record("x86_64")
    for lib in project.build_dir.rglob("*.so*"):
        lib.write_bytes(elf(MACHINES["arm64"]))
    refused(project.deploy(), project, "recorded as x86_64 but its binaries are now arm64")


def test_another_template_is_refused(project: Project) -> None:
    project.build("x86_64")
    project.record("x86_64")
    refused(project.deploy("--template-file", "template.yaml"), project, "--template-file")
