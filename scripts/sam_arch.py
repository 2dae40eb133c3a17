"""The architecture a SAM build was made for, recorded by `make build` and enforced by `make deploy`.

    python3 scripts/sam_arch.py detect [BUILD_DIR]          print what .aws-sam/build's binaries are for
    python3 scripts/sam_arch.py record BUILD_DIR ARCH       after `sam build`: check, pin and record ARCH
    python3 scripts/sam_arch.py deploy BUILD_DIR SAM [ARG...]   check, then run `SAM deploy ARG...`

Why: the render function's layers hold compiled code (the FriBiDi library, the dependencies' extension
modules). Deployed for another CPU, every invocation fails at import, CloudFront fails over to the S3
fallback images, and viewers see fallbacks with no error anywhere. So:

- `record` reads the ELF header of every shared object the build packed (`*.so*` under
  BUILD_DIR/build/: the FriBiDi layer's libfribidi.so.0, the deps layer's extension modules) and
  requires one architecture, the one asked for. It pins the built template's `Architecture` parameter
  to it (AllowedValues: [ARCH]), so even a hand-run `sam deploy` with another value is refused by
  CloudFormation, and writes BUILD_DIR/versa-architecture (JSON: the architecture, the built
  template's SHA-256, what each artifact was found to be).
- `deploy` refuses when there is no record, when the build changed since (another `sam build`), when
  the binaries no longer say the recorded architecture, or when samconfig.toml or the command line ask
  for another Architecture. Otherwise it runs `sam deploy` with the samconfig's parameter overrides,
  the command line's on top, and Architecture set to the recorded one (SAM would otherwise drop the
  samconfig's overrides when given any on the command line, and keep a stack's previous Architecture
  when given none).

Standard library only (Python 3.11+), except `record`'s pinning, which needs PyYAML (SAM CLI's own
environment has it). Nothing here talks to AWS.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import sys
import tomllib
from pathlib import Path

RECORD = "versa-architecture"
ARCHITECTURES = {0x3E: "x86_64", 0xB7: "arm64"}
"""ELF e_machine values and the Lambda architecture names."""
SHARED_OBJECT = re.compile(r"\.so(\.\d+)*$")
FRIBIDI = Path("FribidiLayer") / "lib" / "libfribidi.so.0"
DEPS = "DepsLayer"


class Refused(Exception):
    """The build cannot be recorded or deployed; the message says why and what to do."""


# ------------------------------------------------------------------------------------------- detect


def elf_architecture(path: Path) -> str | None:
    """The Lambda architecture of an ELF file, "unknown (e_machine 0x..)" for another CPU or a 32-bit
    or big-endian file, None when it is not ELF at all."""
    with path.open("rb") as f:
        head = f.read(20)
    if len(head) < 20 or head[:4] != b"\x7fELF":
        return None
    machine = int.from_bytes(head[18:20], "little")
    if head[4] != 2 or head[5] != 1:  # 64-bit, little-endian: both Lambda CPUs
        return f"unknown (ELF class {head[4]}, data {head[5]})"
    return ARCHITECTURES.get(machine, f"unknown (e_machine {machine:#x})")


def detect(build: Path) -> dict[str, dict[str, int]]:
    """{artifact directory: {architecture: number of shared objects}} for every ELF shared object."""
    found: dict[str, dict[str, int]] = {}
    if not build.is_dir():
        raise Refused(f"no build in {build}: run `make build` first")
    for artifact in sorted(p for p in build.iterdir() if p.is_dir()):
        for root, _dirs, files in os.walk(artifact):
            for name in files:
                path = Path(root, name)
                if SHARED_OBJECT.search(name) and path.is_file() and not path.is_symlink():
                    arch = elf_architecture(path)
                    if arch is not None:
                        counts = found.setdefault(artifact.name, {})
                        counts[arch] = counts.get(arch, 0) + 1
    return found


def built_architecture(build: Path) -> tuple[str, dict[str, dict[str, int]]]:
    """The one architecture every shared object in `build` is for. Refused when the FriBiDi library or
    the deps layer's extension modules are missing, or when the binaries disagree."""
    if not (build / FRIBIDI).is_file():
        raise Refused(f"{build / FRIBIDI} is missing: this is not a complete `make build` output")
    found = detect(build)
    if DEPS not in found:
        raise Refused(f"{build / DEPS} holds no compiled extension module: not a complete build")
    archs = {arch for counts in found.values() for arch in counts}
    if len(archs) != 1:
        detail = "; ".join(f"{name}: {', '.join(f'{n} {a}' for a, n in sorted(c.items()))}"
                           for name, c in sorted(found.items()))
        raise Refused(f"the build in {build} mixes architectures ({detail}); run `make build` again")
    [arch] = archs
    if arch not in ARCHITECTURES.values():
        raise Refused(f"the build in {build} is for {arch}, which Lambda does not run")
    return arch, found


# ------------------------------------------------------------------------------------------- record


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def pin_template(template: Path, arch: str) -> None:
    """Allow only `arch` for the built template's Architecture parameter (and make it the default)."""
    import yaml  # SAM CLI's environment has it; only `record` needs it

    doc = yaml.safe_load(template.read_text(encoding="utf-8"))  # sam build writes plain YAML, no tags
    param = (doc.get("Parameters") or {}).get("Architecture")
    if not isinstance(param, dict):
        raise Refused(f"{template} has no Architecture parameter to pin")
    param["AllowedValues"] = [arch]
    param["Default"] = arch
    param["Description"] = (f"Pinned by `make build` to {arch}, the architecture this build was made "
                            "for: its layers hold compiled code for that CPU only.")
    template.write_text(yaml.safe_dump(doc, sort_keys=False, width=120), encoding="utf-8")


def record(build_dir: Path, wanted: str) -> str:
    build = build_dir / "build"
    arch, found = built_architecture(build)
    if arch != wanted:
        raise Refused(f"asked to build {wanted}, but the build in {build} is for {arch}")
    template = build / "template.yaml"
    pin_template(template, arch)
    document = {"architecture": arch, "template_sha256": sha256(template), "shared_objects": found}
    (build_dir / RECORD).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return arch


# ------------------------------------------------------------------------------------------- deploy


def recorded(build_dir: Path) -> str:
    """The recorded architecture, after checking the build is still the one recorded."""
    path = build_dir / RECORD
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        arch, digest = document["architecture"], document["template_sha256"]
    except FileNotFoundError:
        raise Refused(f"no {path}: `make build` records the architecture it built; run it first") from None
    except (ValueError, KeyError, TypeError):
        raise Refused(f"{path} is not a record `make build` wrote; run `make build` again") from None
    template = build_dir / "build" / "template.yaml"
    if not template.is_file() or sha256(template) != digest:
        raise Refused(f"{template} changed since `make build` recorded it (a `sam build` by hand?); "
                      "run `make build` again")
    now, _ = built_architecture(build_dir / "build")
    if now != arch:
        raise Refused(f"the build was recorded as {arch} but its binaries are now {now}; run `make build` again")
    return str(arch)


def parse_overrides(text: str) -> dict[str, str]:
    """SAM's parameter overrides, `Key=Value Key="a value"` or `ParameterKey=K,ParameterValue=V`."""
    pairs: dict[str, str] = {}
    for token in shlex.split(text):
        long = re.fullmatch(r"ParameterKey=([^,]+),ParameterValue=(.*)", token)
        key, sep, value = (long[1], "=", long[2]) if long else token.partition("=")
        if not sep or not key:
            raise Refused(f"cannot read the parameter override {token!r} (expected Key=Value)")
        pairs[key] = value
    return pairs


def format_overrides(pairs: dict[str, str]) -> str:
    return " ".join(f'{key}="{value.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
                    for key, value in pairs.items())


def _option(args: list[str], name: str) -> list[str]:
    """Values of `--name VALUE` / `--name=VALUE` in args (every occurrence)."""
    values = []
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            values.append(args[i + 1])
        elif arg.startswith(name + "="):
            values.append(arg[len(name) + 1 :])
    return values


def _without(args: list[str], name: str) -> list[str]:
    out, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg == name:
            skip = True
        elif not arg.startswith(name + "="):
            out.append(arg)
    return out


def config_overrides(root: Path, args: list[str]) -> tuple[dict[str, str], str]:
    """The samconfig's parameter overrides for `sam deploy` (its deploy section, else global), and
    where they were found."""
    env = (_option(args, "--config-env") or ["default"])[-1]
    name = (_option(args, "--config-file") or ["samconfig.toml"])[-1]
    path = Path(name) if Path(name).is_absolute() else root / name
    if not path.is_file():
        return {}, str(path)
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    for command in ("deploy", "global"):
        value = config.get(env, {}).get(command, {}).get("parameters", {}).get("parameter_overrides")
        if value is not None:
            text = " ".join(value) if isinstance(value, list) else str(value)
            return parse_overrides(text), f"{path.name} [{env}.{command}.parameters]"
    return {}, str(path)


def deploy_command(root: Path, build_dir: Path, sam: str, args: list[str]) -> list[str]:
    """The `sam deploy` command line for the recorded build; Refused when it would deploy another CPU."""
    for option in ("--template-file", "--template", "-t"):
        if _option(args, option):
            raise Refused(f"{option}: `make deploy` deploys the build in {build_dir / 'build'} only")
    arch = recorded(build_dir)
    pairs, where = config_overrides(root, args)
    asked: dict[str, str] = {where: pairs["Architecture"]} if "Architecture" in pairs else {}
    for text in _option(args, "--parameter-overrides"):
        cli = parse_overrides(text)
        if "Architecture" in cli:
            asked["the command line"] = cli["Architecture"]
        pairs.update(cli)
    for source, value in asked.items():
        if value != arch:
            raise Refused(
                f"{source} asks for Architecture={value}, but the build in {build_dir / 'build'} is for "
                f"{arch}: its layers would not load on {value} (every request would fail over to the "
                f"fallback images). Build for {value} (ARCH={value} make build) or drop the override."
            )
    pairs["Architecture"] = arch
    rest = _without(args, "--parameter-overrides")
    return [sam, "deploy", *rest, "--parameter-overrides", format_overrides(pairs)]


# --------------------------------------------------------------------------------------------- main


def main(argv: list[str]) -> int:
    try:
        match argv:
            case ["detect", *rest]:
                build = Path(rest[0] if rest else ".aws-sam") / "build"
                print(json.dumps(detect(build), indent=2))
            case ["record", build_dir, arch]:
                print(f"sam-build: recorded Architecture={record(Path(build_dir), arch)} "
                      f"in {Path(build_dir) / RECORD}", file=sys.stderr)
            case ["deploy", build_dir, sam, *args]:
                command = deploy_command(Path.cwd(), Path(build_dir), sam, args)
                arch = parse_overrides(command[-1])["Architecture"]
                print(f"sam-deploy: deploying the {arch} build: {shlex.join(command)}", file=sys.stderr)
                sys.stdout.flush()
                os.execv(command[0], command)
            case _:
                print(__doc__.split("\n\n")[1], file=sys.stderr)
                return 2
    except Refused as exc:
        prefix = "sam-deploy" if argv[:1] == ["deploy"] else "sam-build"
        print(f"{prefix}: refused: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
