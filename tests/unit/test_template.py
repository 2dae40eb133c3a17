"""template.yaml: what the stack must get right (the CDN cache key, least privilege, names, runtime,
the inlined CloudFront Function), checked by reading the template; and cfn-lint.

CloudFormation cannot read a file into a CloudFront Function's code, so template.yaml inlines
cdn/viewer-request.js and cdn/viewer-response.js (through !Sub, for the VisitorCookie parameter) and a
test checks each equals its file. After editing the JavaScript, run
`python tests/unit/test_template.py --sync` to copy it into the template.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
FUNCTION_JS = ROOT / "cdn" / "viewer-request.js"
RESPONSE_JS = ROOT / "cdn" / "viewer-response.js"
FUNCTION_FILES = {"ViewerRequestFunction": FUNCTION_JS, "ViewerResponseFunction": RESPONSE_JS}
EXAMPLES = ROOT / "examples" / "packs"

FMT_HEADER = "x-versa-fmt"
MANAGED_ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
FAILOVER_CODES = {500, 502, 503, 504}


# ------------------------------------------------------------------------------ reading the template


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form tags (!Ref, !Sub, !GetAtt, !If, ...) as their long forms."""


def _construct(tag: str) -> Any:
    name = "Ref" if tag == "Ref" else f"Fn::{tag}"

    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if tag == "GetAtt":
                value = value.split(".", 1)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)
        return {name: value}

    return construct


for _tag in ("Ref", "Sub", "GetAtt", "If", "Not", "Equals", "And", "Or", "Join", "Select", "Split",
             "FindInMap", "ImportValue", "GetAZs", "Base64", "Cidr", "Condition", "Transform"):  # fmt: skip
    _CfnLoader.add_constructor(f"!{_tag}", _construct(_tag))


@cache
def template() -> dict[str, Any]:
    return yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=_CfnLoader)  # a SafeLoader subclass


def resources(kind: str | None = None) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template()["Resources"].items() if kind is None or v["Type"] == kind}


def props(logical_id: str) -> dict[str, Any]:
    return template()["Resources"][logical_id]["Properties"]


def the(kind: str) -> tuple[str, dict[str, Any]]:
    """The single resource of a type: (logical id, properties)."""
    found = resources(kind)
    assert len(found) == 1, f"expected one {kind}, found {sorted(found)}"
    [(name, res)] = found.items()
    return name, res.get("Properties", {})


def walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


# ---------------------------------------------------------------------------------------- cache key


def cache_key_headers() -> set[str]:
    _, policy = the("AWS::CloudFront::CachePolicy")
    config = policy["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"]["HeadersConfig"]
    assert config["HeaderBehavior"] == "whitelist"
    return {h.lower() for h in config["Headers"]}


def test_cache_policy_keys_on_exactly_the_normalized_headers_and_the_query() -> None:
    from versa.context.attributes import CDN_HEADER_OF

    _, policy = the("AWS::CloudFront::CachePolicy")
    params = policy["CachePolicyConfig"]["ParametersInCacheKeyAndForwardedToOrigin"]

    assert cache_key_headers() == {*CDN_HEADER_OF.values(), FMT_HEADER}
    assert params["QueryStringsConfig"] == {"QueryStringBehavior": "all"}
    assert params["CookiesConfig"] == {"CookieBehavior": "none"}
    assert params["EnableAcceptEncodingGzip"] is False  # nothing else in the key
    assert params["EnableAcceptEncodingBrotli"] is False


def test_the_distribution_uses_the_policies_and_the_functions() -> None:
    policy_id, _ = the("AWS::CloudFront::CachePolicy")
    _, dist = the("AWS::CloudFront::Distribution")
    behavior = dist["DistributionConfig"]["DefaultCacheBehavior"]

    assert behavior["CachePolicyId"] == {"Ref": policy_id}
    assert behavior["OriginRequestPolicyId"] == MANAGED_ALL_VIEWER_EXCEPT_HOST
    assert behavior["FunctionAssociations"] == [
        {
            "EventType": event,
            "FunctionARN": {"Fn::GetAtt": [function_id, "FunctionMetadata.FunctionARN"]},
        }
        for event, function_id in (
            ("viewer-request", "ViewerRequestFunction"),
            ("viewer-response", "ViewerResponseFunction"),
        )
    ]
    assert "CacheBehaviors" not in dist["DistributionConfig"], "every path must go through the same key"


def unkeyed_attributes(keyed_headers: set[str]) -> list[str]:
    """Attributes some example creative's rules (or copy `vary_by`) read that the CDN key cannot tell
    apart, as "brand/creative: attribute". An attribute is keyed when its normalized header is in the
    key, when it is a time feature derived from the (keyed) zone and the clock, or when it is one of
    the creative's declared parameters (they travel in the query string, which is keyed whole)."""
    from versa.context.attributes import CDN_HEADER_OF, TIME_FEATURES
    from versa.decide.variants import attributes_read
    from versa.pack.loader import load_pack
    from versa.render.checks import PACK_CHECKS

    derived = {*TIME_FEATURES, "window"}
    missing = []
    for root in sorted(p for p in EXAMPLES.iterdir() if (p / "pack.yaml").is_file()):
        pack = load_pack(root, checks=PACK_CHECKS)
        for creative_id, creative in pack.model.creatives.items():
            for attr in sorted(attributes_read(creative)):
                if attr in CDN_HEADER_OF:
                    ok = CDN_HEADER_OF[attr] in keyed_headers
                elif attr in derived:
                    ok = CDN_HEADER_OF["tz"] in keyed_headers
                else:
                    ok = attr in creative.params
                if not ok:
                    missing.append(f"{pack.brand}/{creative_id}: {attr}")
    return missing


def test_every_attribute_the_example_rules_read_is_in_the_cache_key() -> None:
    assert unkeyed_attributes(cache_key_headers()) == []


def test_a_missing_header_would_be_caught() -> None:
    # GIVEN a cache key without the country or the zone, THEN the packs' country rules and daypart
    # rules show up as unkeyed
    assert "acme/winter-sale: country" in unkeyed_attributes(cache_key_headers() - {"x-versa-country"})
    assert "acme/winter-sale: daypart" in unkeyed_attributes(cache_key_headers() - {"x-versa-tz"})


def test_lang_and_client_are_keyed_even_when_no_rule_reads_them() -> None:
    # Locale negotiation and email-proxy handling apply to every creative.
    assert {"x-versa-lang", "x-versa-client"} <= cache_key_headers()


# ------------------------------------------------------------------------------------------- the CDN


def test_inline_function_code_equals_the_cdn_files() -> None:
    functions = resources("AWS::CloudFront::Function")
    assert set(functions) == set(FUNCTION_FILES)
    for name, file in FUNCTION_FILES.items():
        function = functions[name]["Properties"]
        assert function["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
        # !Sub: the code's only variable is the VisitorCookie parameter (the consent setting).
        assert function["FunctionCode"] == {"Fn::Sub": file.read_text(encoding="utf-8")}, (
            f"template.yaml's {name} code differs from {file.relative_to(ROOT)}: "
            "run `python tests/unit/test_template.py --sync`"
        )
        assert set(re.findall(r"\$\{([^}]*)\}", file.read_text(encoding="utf-8"))) == {"VisitorCookie"}
    assert template()["Parameters"]["VisitorCookie"]["Default"] == "off"


def test_origin_group_fails_over_to_the_fallbacks_prefix_through_oac() -> None:
    oac_id, oac = the("AWS::CloudFront::OriginAccessControl")
    _, dist = the("AWS::CloudFront::Distribution")
    config = dist["DistributionConfig"]
    origins = {o["Id"]: o for o in config["Origins"]}
    [group] = config["OriginGroups"]["Items"]
    primary, secondary = (m["OriginId"] for m in group["Members"]["Items"])

    assert config["DefaultCacheBehavior"]["TargetOriginId"] == group["Id"]
    assert set(group["FailoverCriteria"]["StatusCodes"]["Items"]) == FAILOVER_CODES
    assert "CustomOriginConfig" in origins[primary]
    fallback = origins[secondary]
    assert fallback["OriginPath"] == "/fallbacks"
    assert fallback["OriginAccessControlId"] == {"Fn::GetAtt": [oac_id, "Id"]}
    assert fallback["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert oac["OriginAccessControlConfig"]["OriginAccessControlOriginType"] == "s3"


def test_the_api_origin_carries_the_secret_the_function_checks() -> None:
    """CloudFront sends the secret's `current` value; the function gets only the secret's id (its value
    is read at run time, never placed in the environment) and may read that secret alone."""
    secret_id, secret = the("AWS::SecretsManager::Secret")
    _, dist = the("AWS::CloudFront::Distribution")
    [api] = [o for o in dist["DistributionConfig"]["Origins"] if "CustomOriginConfig" in o]
    headers = {h["HeaderName"]: h["HeaderValue"] for h in api["OriginCustomHeaders"]}
    env = props("RenderFunction")["Environment"]["Variables"]

    assert api["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert headers["x-versa-origin-secret"] == {
        "Fn::Sub": f"{{{{resolve:secretsmanager:${{{secret_id}}}:SecretString:current}}}}"
    }
    assert secret["GenerateSecretString"]["GenerateStringKey"] == "current"
    assert env["VERSA_ORIGIN_SECRET_ID"] == {"Ref": secret_id}
    assert not [name for name, value in env.items() if "resolve:" in str(value)]
    [policy] = props("RenderRole")["Policies"]
    reads = [s for s in policy["PolicyDocument"]["Statement"] if s["Action"] == "secretsmanager:GetSecretValue"]
    assert [s["Resource"] for s in reads] == [{"Ref": secret_id}]


def test_changing_the_secret_generation_updates_the_distribution() -> None:
    """CloudFormation re-reads a dynamic reference only for a resource it updates: the generation
    parameter is part of the distribution, so changing it makes CloudFront send the rotated value."""
    _, dist = the("AWS::CloudFront::Distribution")
    assert "${OriginSecretGeneration}" in dist["DistributionConfig"]["Comment"]["Fn::Sub"]


def test_origin_failures_raise_alarms() -> None:
    """Failover hides an origin outage from viewers and from CloudFront's metrics: the render function's
    errors and the API's 5xx each have an alarm on the alarm topic (every alarm goes to that topic)."""
    topic_id, _ = the("AWS::SNS::Topic")
    topic = {"Fn::If": ["CreateAlarmTopic", {"Ref": topic_id}, {"Ref": "AlarmTopicArn"}]}
    watched = {}
    for name, alarm in resources("AWS::CloudWatch::Alarm").items():
        p = alarm["Properties"]
        assert p["AlarmActions"] == [topic] and p["OKActions"] == [topic], name
        # a synthetic check that stopped running must alarm; every other silence is health
        assert p["TreatMissingData"] == ("breaching" if name == "SyntheticFallbackAlarm" else "notBreaching"), name
        assert p["ComparisonOperator"] in ("GreaterThanOrEqualToThreshold", "GreaterThanThreshold"), name
        if "MetricName" in p:
            watched[p["Namespace"], p["MetricName"], str(p["Dimensions"][0]["Value"])] = p
    render_errors = watched["AWS/Lambda", "Errors", str({"Ref": "RenderFunction"})]
    assert render_errors["Threshold"] == 1
    api_name = props("RenderApi")["Name"]
    api_5xx = watched["AWS/ApiGateway", "5XXError", str(api_name)]
    assert api_5xx["Threshold"] == 1
    assert api_5xx["Dimensions"] == [
        {"Name": "ApiName", "Value": api_name},
        {"Name": "Stage", "Value": {"Ref": "Stage"}},
    ]


def test_the_default_architecture_is_what_the_documented_build_makes_on_x86_64() -> None:
    """A newcomer on an x86_64 machine runs `make build` (that machine's CPU): the template's default
    matches it, and samconfig.toml does not ask for another (make deploy passes the built one)."""
    assert template()["Parameters"]["Architecture"]["Default"] == "x86_64"
    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    for section in config.get("default", {}).values():
        assert "Architecture" not in str(section.get("parameter_overrides", "")), section


def test_the_bucket_is_private_and_the_cdn_reads_only_fallbacks() -> None:
    bucket_id, bucket = the("AWS::S3::Bucket")
    _, policy = the("AWS::S3::BucketPolicy")

    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    allows = [s for s in policy["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    assert allows == [
        {
            "Sid": "CdnReadsFallbacksOnly",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": {"Fn::Sub": f"${{{bucket_id}.Arn}}/fallbacks/*"},
            "Condition": {
                "StringEquals": {
                    "AWS:SourceArn": {
                        "Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Distribution}"
                    }
                }
            },
        }
    ]


# ---------------------------------------------------------------------------------------- the API


def test_rest_api_is_regional_with_one_proxy_resource_and_binary_everything() -> None:
    api_id, api = the("AWS::Serverless::Api")
    assert api["EndpointConfiguration"] == {"Type": "REGIONAL"}
    assert set(api["BinaryMediaTypes"]) & {"*/*", "*~1*"}

    routes = set()
    for res in resources("AWS::Serverless::Function").values():
        for event in res["Properties"].get("Events", {}).values():
            if event["Type"] == "Api":
                assert event["Properties"]["RestApiId"] == {"Ref": api_id}
                routes.add(event["Properties"]["Path"])
    assert routes == {"/", "/{proxy+}"}


def _python(runtime: str) -> tuple[int, int]:
    match = re.fullmatch(r"python(\d+)\.(\d+)", runtime)
    assert match, runtime
    return int(match[1]), int(match[2])


def test_runtime_is_python_312_or_newer() -> None:
    functions = resources("AWS::Serverless::Function")
    assert functions
    for res in functions.values():
        assert _python(res["Properties"]["Runtime"]) >= (3, 12)
        assert res["Properties"]["Handler"] == "app.lambda_handler"
    runtimes = {res["Properties"]["Runtime"] for res in functions.values()}
    for name, layer in resources("AWS::Serverless::LayerVersion").items():
        assert set(layer["Properties"]["CompatibleRuntimes"]) >= runtimes, name
        method = layer["Metadata"]["BuildMethod"]
        assert method == "makefile" or method in runtimes, name


def test_function_settings_are_settings_versa_reads() -> None:
    settings = pytest.importorskip("versa.settings")
    fields = {f"VERSA_{name.upper()}" for name in settings.Settings.model_fields}
    for function in ("RenderFunction", "GeneratorFunction", "OptimizerFunction", "ImpressionFunction"):
        env = props(function)["Environment"]["Variables"]
        assert {k for k in env if k.startswith("VERSA_")} <= fields, function
        assert env["VERSA_FONT_DIRS"] == "/opt/fonts"
        assert "/opt/lib" in env["LD_LIBRARY_PATH"].split(":")


# -------------------------------------------------------------------------------------------- layers


def test_every_code_directory_exists_and_each_makefile_has_its_target() -> None:
    for name, res in resources().items():
        if res["Type"] not in ("AWS::Serverless::Function", "AWS::Serverless::LayerVersion"):
            continue
        code = res["Properties"].get("CodeUri") or res["Properties"]["ContentUri"]
        assert (ROOT / code).is_dir(), f"{name}: {code}"
        if res.get("Metadata", {}).get("BuildMethod") == "makefile":
            context = res["Metadata"].get("ContextPath", code)
            if isinstance(context, dict):  # !Sub layers/fribidi/${Architecture}
                arches = template()["Parameters"]["Architecture"]["AllowedValues"]
                dirs = [context["Fn::Sub"].replace("${Architecture}", a) for a in arches]
            else:
                dirs = [context]
            for d in dirs:
                makefile = ROOT / d / "Makefile"
                assert makefile.is_file(), f"{name}: {makefile}"
            text = "".join(
                (ROOT / d / "Makefile").read_text()
                for d in {*dirs, code.rstrip("/")}
                if (ROOT / d / "Makefile").is_file()
            )
            assert re.search(rf"^build-{name}:", text, re.M), f"{name}: no build-{name} target"


def _requirement_names(lines: list[str]) -> set[str]:
    names = set()
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            names.add(re.split(r"[\[<>=!~; ]", line, maxsplit=1)[0].lower().replace("_", "-"))
    return names


def test_deps_layer_carries_the_project_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    layer = (ROOT / "layers" / "deps" / "requirements.txt").read_text().splitlines()
    assert _requirement_names(layer) == _requirement_names(project)
    assert "aws-lambda-powertools[tracer]" in "".join(layer), "the render function uses Powertools' Tracer"


WHEEL_ARCHES = {"x86_64": "x86_64", "arm64": "aarch64"}


def test_deps_layer_ships_wheels_for_its_architecture_byte_compiled_for_the_runtime(tmp_path: Path) -> None:
    """SAM's Python builder ships no .pyc (and /opt is read-only): the deps layer is a makefile build per
    Architecture that installs wheels for that CPU and byte-compiles them for the function's runtime."""
    layer = resources("AWS::Serverless::LayerVersion")["DepsLayer"]
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Metadata"]["BuildArchitecture"] == {"Ref": "Architecture"}
    assert layer["Metadata"]["ContextPath"] == {"Fn::Sub": "layers/deps/${Architecture}"}
    assert layer["Properties"]["ContentUri"].rstrip("/") == "layers/deps"  # SAM's cache follows the Makefiles
    assert layer["Properties"]["CompatibleArchitectures"] == [{"Ref": "Architecture"}]
    runtime = props("RenderFunction")["Runtime"].removeprefix("python")
    for arch in template()["Parameters"]["Architecture"]["AllowedValues"]:
        # what the build would run (make -n runs nothing: no PyPI here)
        done = _make(ROOT / "layers" / "deps" / arch / "Makefile", "build-DepsLayer", tmp_path, "-n")
        assert done.returncode == 0, done.stderr
        commands = " ".join(done.stdout.replace("\\\n", " ").split())
        wheel_arch = WHEEL_ARCHES[arch]
        install = re.search(r"-m pip install (.*?--only-binary=:all:)", commands)
        assert install, commands
        for option in ("--no-compile", f"--platform manylinux_2_28_{wheel_arch}",
                       f"--platform manylinux2014_{wheel_arch}", "--implementation cp",
                       f"--python-version {runtime}", "--target"):  # fmt: skip
            assert option in install[1], f"{arch}: pip install without {option}"
        other = WHEEL_ARCHES["arm64" if arch == "x86_64" else "x86_64"]
        assert other not in install[1], f"{arch}: wheels for {other}"
        assert f'"python{runtime}" -m compileall' in commands, f"{arch}: not compiled by the runtime's Python"
        assert "--invalidation-mode unchecked-hash" in commands, arch
        assert "check_bytecode.py" in commands, arch
    assert not list(tmp_path.iterdir()), "make -n wrote into ARTIFACTS_DIR"


def test_fonts_layer_ships_every_default_family() -> None:
    fonts = pytest.importorskip("versa.render.fonts")
    makefile = (ROOT / "layers" / "fonts" / "Makefile").read_text().replace("\\\n", " ")
    shipped: set[str] = set()
    for variable in ("FONTS", "CJK_FONTS"):  # copied whole / cut to the faces Versa uses
        listed = re.search(rf"^{variable} := (.*)$", makefile, re.M)
        assert listed, variable
        shipped |= set(listed[1].split())
    assert shipped == {spec.file for spec in fonts.FAMILIES.values()}


def _make(
    makefile: Path, target: str, artifacts: Path, *args: str, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    """A layer's make target as `sam build` runs it (ARTIFACTS_DIR in the environment)."""
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "ARTIFACTS_DIR": str(artifacts)}
    return subprocess.run(
        [make, "--makefile", str(makefile), target, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _elf_machine(path: Path) -> bytes:
    head = path.read_bytes()[:20]
    assert head[:5] == b"\x7fELF\x02", f"{path} is not a 64-bit ELF file"
    return head[18:19]


ELF_MACHINES = {"x86_64": b"\x3e", "arm64": b"\xb7"}


def _host_architecture() -> str | None:
    import platform

    machine = platform.machine().lower()
    return {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(machine)


def test_versa_layer_makefile_copies_the_package(tmp_path: Path) -> None:
    done = _make(ROOT / "layers" / "versa" / "Makefile", "build-VersaLayer", tmp_path, cwd=ROOT / "shared")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "python" / "versa" / "__init__.py").is_file()
    assert (tmp_path / "python" / "versa" / "context" / "resolve.py").read_bytes() == (
        ROOT / "shared/versa/context/resolve.py"
    ).read_bytes()
    # byte-compiled for the runtime (when python3.12 is on PATH), never the build machine's stale caches
    runtime = props("RenderFunction")["Runtime"].removeprefix("python").replace(".", "")
    assert {p.name.split(".")[-2] for p in tmp_path.rglob("*.pyc")} <= {f"cpython-{runtime}"}


def test_fonts_layer_makefile_copies_every_font(tmp_path: Path) -> None:
    # CJK_SUBSET=0 copies the CJK collections whole: cutting them takes minutes (the SAM build does it)
    done = _make(ROOT / "layers" / "fonts" / "Makefile", "build-FontsLayer", tmp_path, "CJK_SUBSET=0")
    assert done.returncode == 0, done.stderr  # scripts/system-deps.sh installs the fonts
    makefile = (ROOT / "layers" / "fonts" / "Makefile").read_text().replace("\\\n", " ")
    listed = [re.search(rf"^{variable} := (.*)$", makefile, re.M) for variable in ("FONTS", "CJK_FONTS")]
    assert all(listed)
    assert sorted(p.name for p in (tmp_path / "fonts").iterdir()) == sorted(
        name for found in listed if found for name in found[1].split()
    )


def test_fribidi_layer_makefile_copies_this_machines_library(tmp_path: Path) -> None:
    arch = _host_architecture()
    if arch is None or sys.platform != "linux":
        pytest.skip("the FriBiDi layer is built on Linux x86_64 or arm64")
    done = _make(ROOT / "layers" / "fribidi" / arch / "Makefile", "build-FribidiLayer", tmp_path)
    assert done.returncode == 0, done.stderr  # scripts/system-deps.sh installs libfribidi0
    assert _elf_machine(tmp_path / "lib" / "libfribidi.so.0") == ELF_MACHINES[arch]


def test_fribidi_layer_makefile_refuses_a_library_it_cannot_find(tmp_path: Path) -> None:
    # GIVEN no system library to take (SEARCH=) and no package to download (DEB=0)
    done = _make(
        ROOT / "layers" / "fribidi" / "arm64" / "Makefile", "build-FribidiLayer", tmp_path, "SEARCH=", "DEB=0"
    )
    # THEN the build stops and says what to do, leaving no library behind
    assert done.returncode != 0
    assert "no arm64 libfribidi.so.0" in done.stderr
    assert "dpkg --add-architecture arm64" in done.stderr
    assert not (tmp_path / "lib" / "libfribidi.so.0").exists()


# ------------------------------------------------------------------------------------ data and queues


def test_copy_table_is_on_demand_with_ttl_and_point_in_time_recovery() -> None:
    table = props("CopyTable")
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]


def test_copy_table_has_the_listing_index_the_adapter_queries() -> None:
    from versa.adapters.dynamo_copy import BRAND_INDEX

    table = props("CopyTable")
    (index,) = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == BRAND_INDEX
    assert index["KeySchema"] == [
        {"AttributeName": "brand", "KeyType": "HASH"}, {"AttributeName": "list_sk", "KeyType": "RANGE"},
    ]
    assert index["Projection"] == {"ProjectionType": "ALL"}
    assert {"AttributeName": "list_sk", "AttributeType": "S"} in table["AttributeDefinitions"]


def test_generation_queue_has_a_dead_letter_queue() -> None:
    redrive = props("GenerationQueue")["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["GenerationDeadLetterQueue", "Arn"]}
    assert redrive["maxReceiveCount"] >= 1


# ---------------------------------------------------------------------------------- IAM and names


def statements() -> Iterator[tuple[str, dict[str, Any]]]:
    for name, res in resources().items():
        for node in walk(res.get("Properties", {})):
            if isinstance(node, dict) and "Statement" in node and "Version" in node:
                stmts = node["Statement"]
                for stmt in stmts if isinstance(stmts, list) else [stmts]:
                    yield name, stmt


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_no_iam_statement_grants_everything() -> None:
    found = list(statements())
    assert len(found) >= 10
    for name, stmt in found:
        assert "*" not in _as_list(stmt.get("Resource", [])), f"{name} {stmt.get('Sid')}: Resource '*'"
        assert "NotResource" not in stmt and "NotAction" not in stmt, name
        if stmt["Effect"] == "Allow":
            for action in _as_list(stmt["Action"]):
                assert "*" not in action, f"{name} {stmt.get('Sid')}: wildcard action {action}"


def test_functions_use_the_explicit_least_privilege_role() -> None:
    roles = {"RenderFunction": "RenderRole", "GeneratorFunction": "GeneratorRole", "OptimizerFunction": "OptimizerRole",
             "SyntheticFunction": "SyntheticRole", "ImpressionFunction": "ImpressionRole"}
    functions = resources("AWS::Serverless::Function")
    assert set(functions) == set(roles)
    for name, res in functions.items():
        assert "Policies" not in res["Properties"], f"{name}: SAM policy templates grant broadly"
        assert res["Properties"]["Role"] == {"Fn::GetAtt": [roles[name], "Arn"]}


def test_render_role_reads_packs_table_and_queue_only() -> None:
    [policy] = props("RenderRole")["Policies"]
    granted = {a for s in policy["PolicyDocument"]["Statement"] for a in _as_list(s["Action"])}
    assert granted == {
        "logs:CreateLogStream", "logs:PutLogEvents", "s3:GetObject", "s3:ListBucket",
        "dynamodb:BatchGetItem", "dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem", "sqs:SendMessage",
        "ssm:GetParameter", "secretsmanager:GetSecretValue",
    }  # fmt: skip
    # the relevance table: snapshots read (Query the latest, GetItem a pinned epoch), clicks counted
    relevance = {a for s in policy["PolicyDocument"]["Statement"] for a in _as_list(s["Action"])
                 if s["Resource"] == {"Fn::GetAtt": ["RelevanceTable", "Arn"]}}
    assert relevance == {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:UpdateItem"}
    env = props("RenderFunction")["Environment"]["Variables"]
    assert env["VERSA_RELEVANCE_TABLE"] == {"Ref": "RelevanceTable"}


def test_synthetic_role_reads_packs_and_the_signing_key_only() -> None:
    """The synthetic check signs URLs (the keyring) and lists brands (packs); it fetches through the
    public CDN, so it needs nothing of the render API, the table, the queue or the origin secret."""
    [policy] = props("SyntheticRole")["Policies"]
    granted = {a for s in policy["PolicyDocument"]["Statement"] for a in _as_list(s["Action"])}
    assert granted == {"logs:CreateLogStream", "logs:PutLogEvents", "s3:GetObject", "s3:ListBucket", "ssm:GetParameter"}


def test_render_deploys_gradually_and_rolls_back_on_its_alarms() -> None:
    """A new render version takes traffic through the `live` alias as DeploymentType says (a canary by
    default, AllAtOnce for dev), and the alarms that see a bad version roll it back."""
    fn = props("RenderFunction")
    assert fn["AutoPublishAlias"] == "live"
    assert fn["DeploymentPreference"]["Type"] == {"Ref": "DeploymentType"}
    params = template()["Parameters"]["DeploymentType"]
    assert params["Default"].startswith("Canary") and "AllAtOnce" in params["AllowedValues"]
    alarms = {a["Ref"] for a in fn["DeploymentPreference"]["Alarms"]}
    assert {"RenderErrorsAlarm", "OriginServerErrorsAlarm", "FallbackRateAlarm"} <= alarms
    assert alarms <= set(resources("AWS::CloudWatch::Alarm"))


def test_cloudfront_alarms_exist_only_where_cloudfront_publishes_metrics() -> None:
    """CloudFront's metrics live in us-east-1; origin latency also needs the additional metrics."""
    alarms = resources("AWS::CloudWatch::Alarm")
    conditions = template()["Conditions"]
    assert conditions["CloudFrontMetricsHere"] == {"Fn::Equals": [{"Ref": "AWS::Region"}, "us-east-1"]}
    for name, alarm in alarms.items():
        if alarm["Properties"].get("Namespace") == "AWS/CloudFront":
            assert alarm.get("Condition") in ("CloudFrontMetricsHere", "CloudFrontOriginLatencyHere"), name
    assert alarms["CloudFrontOriginLatencyAlarm"]["Condition"] == "CloudFrontOriginLatencyHere"
    sub = resources("AWS::CloudFront::MonitoringSubscription")
    assert [r["Condition"] for r in sub.values()] == ["CloudFrontOriginLatencyHere"]


def test_cloudfront_names_include_the_region() -> None:
    """CloudFront functions, policies and access controls are global to the account: two stacks of one
    name in two regions would collide without the region in their names."""
    named = {
        "AWS::CloudFront::Function": lambda p: p["Name"],
        "AWS::CloudFront::CachePolicy": lambda p: p["CachePolicyConfig"]["Name"],
        "AWS::CloudFront::OriginAccessControl": lambda p: p["OriginAccessControlConfig"]["Name"],
        "AWS::WAFv2::WebACL": lambda p: p["Name"],
    }
    for kind, name_of in named.items():
        for rid, res in resources(kind).items():
            assert "${AWS::Region}" in name_of(res["Properties"])["Fn::Sub"], rid


def test_generator_role_grants_exactly_what_the_generator_calls() -> None:
    """The generator reads the lease back and writes over it (never leases, never lists), keeps its
    idempotency records and ledger in its own table, and reads only its secret and kill switch."""
    [policy] = props("GeneratorRole")["Policies"]
    granted = {(s["Sid"], a) for s in policy["PolicyDocument"]["Statement"] for a in _as_list(s["Action"])}
    by_resource = {s["Sid"]: s["Resource"] for s in policy["PolicyDocument"]["Statement"]}
    assert {a for _, a in granted} == {
        "logs:CreateLogStream", "logs:PutLogEvents", "sqs:ReceiveMessage", "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes", "dynamodb:BatchGetItem", "dynamodb:PutItem",
        "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "s3:GetObject", "s3:ListBucket",
        "s3:PutObject", "s3:PutObjectTagging", "secretsmanager:GetSecretValue", "ssm:GetParameter",
    }  # fmt: skip
    copy_actions = {a for sid, a in granted if by_resource[sid] == {"Fn::GetAtt": ["CopyTable", "Arn"]}}
    assert copy_actions == {"dynamodb:BatchGetItem", "dynamodb:PutItem"}
    assert by_resource["IdempotencyAndSpendingLedger"] == {"Fn::GetAtt": ["GeneratorStateTable", "Arn"]}
    assert "ManagedPolicyArns" not in props("GeneratorRole")
    [render_policy] = props("RenderRole")["Policies"]
    render_resources = str([s["Resource"] for s in render_policy["PolicyDocument"]["Statement"]])
    assert "GeneratorStateTable" not in render_resources and "OpenAIKeySecretName" not in render_resources


def _s3_grants(statements: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(action, resource) of every S3 object grant, the resource as its `Fn::Sub` text."""
    return {
        (action, str(resource.get("Fn::Sub", resource)) if isinstance(resource, dict) else str(resource))
        for stmt in statements
        for action in _as_list(stmt["Action"]) if action.startswith("s3:") and action != "s3:ListBucket"
        for resource in _as_list(stmt["Resource"])
    }


def test_generated_visuals_are_written_by_the_generator_and_read_by_the_render_function() -> None:
    """The generator writes and tags generated/* (nothing else of the bucket); the render function and
    reviewers read it; reviewers may tag (reject); the model is a parameter on both functions."""
    [generator] = props("GeneratorRole")["Policies"]
    [render] = props("RenderRole")["Policies"]
    reviewer = props("ReviewerPolicy")["PolicyDocument"]["Statement"]
    generated = "${Bucket.Arn}/generated/*"
    assert _s3_grants(generator["PolicyDocument"]["Statement"]) == {
        ("s3:GetObject", "${Bucket.Arn}/packs/*"), ("s3:PutObject", generated), ("s3:PutObjectTagging", generated)}
    assert _s3_grants(render["PolicyDocument"]["Statement"]) == {
        ("s3:GetObject", "${Bucket.Arn}/packs/*"), ("s3:GetObject", generated)}
    assert {g for g in _s3_grants(reviewer) if g[1] == generated} == {
        ("s3:GetObject", generated), ("s3:PutObjectTagging", generated)}
    for function in ("RenderFunction", "GeneratorFunction"):
        assert props(function)["Environment"]["Variables"]["VERSA_VISUAL_MODEL"] == {"Ref": "VisualModel"}
    assert template()["Parameters"]["VisualModel"]["Default"] == ""


def test_optimizer_role_reads_counts_and_packs_and_writes_snapshots_only() -> None:
    """The optimizer queries counts and the latest snapshot, reads an epoch back and writes an epoch
    once, on the relevance table only; it never counts (no UpdateItem) and never touches copy."""
    [policy] = props("OptimizerRole")["Policies"]
    statements_ = policy["PolicyDocument"]["Statement"]
    granted = {a for s in statements_ for a in _as_list(s["Action"])}
    assert granted == {
        "logs:CreateLogStream", "logs:PutLogEvents", "dynamodb:Query", "dynamodb:GetItem", "dynamodb:PutItem",
        "s3:GetObject", "s3:ListBucket",
    }  # fmt: skip
    dynamo = [s for s in statements_ if any(a.startswith("dynamodb:") for a in _as_list(s["Action"]))]
    assert [s["Resource"] for s in dynamo] == [{"Fn::GetAtt": ["RelevanceTable", "Arn"]}]
    assert "ManagedPolicyArns" not in props("OptimizerRole")


def test_the_optimizer_runs_on_a_schedule_naming_its_brands() -> None:
    rule = props("OptimizerScheduleRule")
    assert rule["ScheduleExpression"] == {"Ref": "OptimizerSchedule"}
    assert template()["Parameters"]["OptimizerSchedule"]["Default"] == "rate(1 hour)"
    assert rule["State"] == {"Fn::If": ["HasOptimizerBrands", "ENABLED", "DISABLED"]}
    [target] = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["OptimizerFunction", "Arn"]}
    body, names = target["Input"]["Fn::Sub"]
    # the input the handler reads (versa.consumer.optimizer.brands_of), for two brands
    import json

    joined = '", "'.join(["acme", "northwind"])
    assert json.loads(body.replace("${Brands}", joined)) == {"brands": ["acme", "northwind"]}
    assert names == {"Brands": {"Fn::Join": ['", "', {"Ref": "OptimizerBrands"}]}}
    permission = props("OptimizerInvokePermission")
    assert permission["Principal"] == "events.amazonaws.com"
    assert permission["SourceArn"] == {"Fn::GetAtt": ["OptimizerScheduleRule", "Arn"]}
    env = props("OptimizerFunction")["Environment"]["Variables"]
    assert env["VERSA_RELEVANCE_TABLE"] == {"Ref": "RelevanceTable"}


def test_the_edge_logs_every_view_to_the_stream_with_the_fields_the_counter_reads() -> None:
    impressions = pytest.importorskip("versa.relevance.impressions")
    config = props("RealtimeLogConfig")
    # the record's values come in the configured order: the consumer reads them by position
    assert tuple(config["Fields"]) == impressions.REALTIME_FIELDS
    assert config["SamplingRate"] == {"Ref": "ImpressionSamplingRate"}
    assert template()["Parameters"]["ImpressionSamplingRate"]["Default"] == 100
    [endpoint] = config["EndPoints"]
    assert endpoint["KinesisStreamConfig"] == {"RoleArn": {"Fn::GetAtt": ["RealtimeLogRole", "Arn"]},
                                               "StreamArn": {"Fn::GetAtt": ["ImpressionStream", "Arn"]}}
    _, dist = the("AWS::CloudFront::Distribution")
    behavior = dist["DistributionConfig"]["DefaultCacheBehavior"]
    assert behavior["RealtimeLogConfigArn"] == {"Fn::GetAtt": ["RealtimeLogConfig", "Arn"]}
    assert "CacheBehaviors" not in dist["DistributionConfig"], "every behaviour must log its views"
    # CloudFront may only write to the stream, and only for this account
    role = props("RealtimeLogRole")
    [statement] = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    [policy] = role["Policies"]
    [put] = policy["PolicyDocument"]["Statement"]
    assert set(put["Action"]) == {"kinesis:DescribeStreamSummary", "kinesis:DescribeStream", "kinesis:PutRecord",
                                  "kinesis:PutRecords"}
    assert put["Resource"] == {"Fn::GetAtt": ["ImpressionStream", "Arn"]}


def test_the_impression_counter_reads_the_stream_with_partial_failures_and_only_adds_counts() -> None:
    function = props("ImpressionFunction")
    [event] = function["Events"].values()
    assert event["Type"] == "Kinesis"
    assert event["Properties"]["Stream"] == {"Fn::GetAtt": ["ImpressionStream", "Arn"]}
    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert function["CodeUri"].rstrip("/") == "functions/impressions"
    env = function["Environment"]["Variables"]
    assert env["VERSA_IMPRESSION_SAMPLING_RATE"] == {"Ref": "ImpressionSamplingRate"}
    assert env["VERSA_RELEVANCE_TABLE"] == {"Ref": "RelevanceTable"}
    assert env["VERSA_VISITOR_COOKIE"] == {"Ref": "VisitorCookie"}
    [policy] = props("ImpressionRole")["Policies"]
    actions = {sid["Sid"]: set(sid["Action"]) if isinstance(sid["Action"], list) else {sid["Action"]}
               for sid in policy["PolicyDocument"]["Statement"]}
    assert actions["ReadSnapshotsAddCounts"] == {"dynamodb:Query", "dynamodb:GetItem", "dynamodb:UpdateItem"}
    assert not any(a.startswith("kinesis:Put") for acts in actions.values() for a in acts)
    assert "ManagedPolicyArns" not in props("ImpressionRole")


def test_the_generator_consumes_the_queue_with_partial_failures_and_bounded_concurrency() -> None:
    generator = props("GeneratorFunction")
    [event] = generator["Events"].values()
    assert event["Type"] == "SQS"
    assert event["Properties"]["Queue"] == {"Fn::GetAtt": ["GenerationQueue", "Arn"]}
    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert 1 <= event["Properties"]["BatchSize"] <= 10
    assert event["Properties"]["ScalingConfig"] == {"MaximumConcurrency": {"Ref": "GeneratorMaxConcurrency"}}
    # a message is not redelivered while its invocation may still run
    assert generator["Timeout"] <= props("GenerationQueue")["VisibilityTimeout"]
    assert generator["CodeUri"].rstrip("/") == "functions/generate"
    assert generator["Runtime"] == props("RenderFunction")["Runtime"]
    requirements = (ROOT / "functions" / "generate" / "requirements.txt").read_text()
    assert "openai" in _requirement_names(requirements.splitlines())
    assert not (ROOT / "functions" / "render" / "requirements.txt").exists()
    env = generator["Environment"]["Variables"]
    assert env["VERSA_COPY_MODEL"] == {"Ref": "CopyModel"} == props("RenderFunction")["Environment"]["Variables"]["VERSA_COPY_MODEL"]
    assert env["VERSA_GENERATOR_TABLE"] == {"Ref": "GeneratorStateTable"}
    assert env["VERSA_COPY_KILL_SWITCH_PARAMETER"] == {"Ref": "KillSwitchParameter"}
    assert props("GeneratorStateTable")["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}


def test_the_generator_has_its_alarms() -> None:
    """Dead letters, a backlog older than the lease, failed messages and spend each alarm."""
    watched = {(p["Namespace"], p["MetricName"]): p for p in
               (a["Properties"] for a in resources("AWS::CloudWatch::Alarm").values()) if "MetricName" in p}
    dead = watched["AWS/SQS", "ApproximateNumberOfMessagesVisible"]
    assert dead["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": ["GenerationDeadLetterQueue", "QueueName"]}}]
    assert dead["Threshold"] == 1
    age = watched["AWS/SQS", "ApproximateAgeOfOldestMessage"]
    assert age["Dimensions"][0]["Value"] == {"Fn::GetAtt": ["GenerationQueue", "QueueName"]}
    assert age["Threshold"] > 600  # past the lease: the key would have been asked again by then
    from versa.consumer.generator import SERVICE

    for metric in ("GenerationFailures", "CopyTokens"):
        assert watched["Versa", metric]["Dimensions"] == [{"Name": "service", "Value": SERVICE}]
    assert watched["Versa", "CopyTokens"]["Threshold"] == {"Ref": "SpendAlarmTokensPerHour"}


NAME_KEYS = {
    "Name", "BucketName", "TableName", "QueueName", "RoleName", "ManagedPolicyName", "FunctionName",
    "LogGroupName", "LayerName", "TopicName",
}  # fmt: skip


def _names(node: Any, path: str = "", depth: int = 0) -> Iterator[tuple[str, Any]]:
    if not isinstance(node, dict) or depth > 2:
        return
    for key, value in node.items():
        if key in NAME_KEYS:
            yield f"{path}{key}", value
        yield from _names(value, f"{path}{key}.", depth + 1)


def test_account_unique_names_derive_from_the_stack_name() -> None:
    named = {}
    for logical_id, res in resources().items():
        if res["Type"] == "AWS::Lambda::Permission":
            continue  # its FunctionName refers to a function, it names nothing
        for path, value in _names(res.get("Properties", {})):
            named[f"{logical_id}.{path}"] = value
    assert len(named) >= 6
    for where, value in named.items():
        assert isinstance(value, dict) and "${AWS::StackName}" in str(value.get("Fn::Sub")), where
    # Globally unique names (bucket) and the rest are left to CloudFormation, which puts the stack
    # name in the names it generates.
    for logical_id in ("Bucket", "CopyTable", "GenerationQueue", "GenerationDeadLetterQueue", "RenderRole"):
        assert not NAME_KEYS & set(props(logical_id)), logical_id


def test_log_groups_have_retention() -> None:
    groups = resources("AWS::Logs::LogGroup")
    assert groups
    for res in groups.values():
        assert res["Properties"]["RetentionInDays"]
    assert props("RenderFunction")["LoggingConfig"]["LogGroup"] == {"Ref": "RenderLogGroup"}


def test_outputs() -> None:
    outputs = template()["Outputs"]
    assert {"CdnUrl", "ApiUrl", "Bucket", "Table", "Queue", "PublisherPolicyArn"} <= set(outputs)


# ------------------------------------------------------------------------------------------ cfn-lint


def _cfn_lint() -> list[str] | None:
    """The project's cfn-lint (the dev extra, beside this interpreter), else one on PATH."""
    beside = Path(sys.executable).with_name("cfn-lint")
    exe = str(beside) if beside.is_file() else shutil.which("cfn-lint")
    return [exe] if exe else None


def test_cfn_lint_is_clean() -> None:
    command = _cfn_lint()
    if command is None:
        pytest.skip("cfn-lint is not installed (pip install -e '.[dev]')")
    done = subprocess.run([*command, str(TEMPLATE)], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == ""


# --------------------------------------------------------------------------------------------- sync


def sync_function_code() -> bool:
    """Copy the cdn/ functions into template.yaml's inline FunctionCode; True if one changed."""
    changed = False
    for name, file in FUNCTION_FILES.items():
        changed = _sync_one(name, file) or changed
    return changed


def _sync_one(name: str, file: Path) -> bool:
    text = TEMPLATE.read_text(encoding="utf-8")
    lines = text.split("\n")
    [resource] = [i for i, line in enumerate(lines) if line == f"  {name}:"]
    start = next(i for i in range(resource, len(lines)) if lines[i].strip() == "FunctionCode: !Sub |")
    indent = len(lines[start]) - len(lines[start].lstrip()) + 2
    end = start + 1
    while end < len(lines) and (
        not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) >= indent
    ):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():  # keep the blank line(s) before the next key
        end -= 1
    code = file.read_text(encoding="utf-8").rstrip("\n").split("\n")
    block = [(" " * indent + line) if line.strip() else "" for line in code]
    new = "\n".join([*lines[: start + 1], *block, *lines[end:]])
    if new == text:
        return False
    TEMPLATE.write_text(new, encoding="utf-8")
    return True


if __name__ == "__main__":
    if sys.argv[1:] != ["--sync"]:
        sys.exit(f"usage: python {Path(__file__).relative_to(ROOT)} --sync")
    print("template.yaml updated" if sync_function_code() else "template.yaml already up to date")


def test_snapstart_is_a_parameter_off_by_default_and_its_constraints_hold() -> None:
    # GIVEN the SnapStart parameter and the render function
    parameter = template()["Parameters"]["SnapStart"]
    function = props("RenderFunction")
    # THEN it is off unless asked for, and on means published versions, which the alias publishes
    assert parameter["Default"] == "false" and parameter["AllowedValues"] == ["true", "false"]
    assert template()["Conditions"]["SnapStartOn"] == {"Fn::Equals": [{"Ref": "SnapStart"}, "true"]}
    assert function["SnapStart"] == {
        "Fn::If": ["SnapStartOn", {"ApplyOn": "PublishedVersions"}, {"Ref": "AWS::NoValue"}]
    }
    assert function["AutoPublishAlias"]
    # AND nothing SnapStart refuses is configured: Python 3.12+, no provisioned concurrency, no EFS,
    # ephemeral storage at most 512 MB
    major, minor = map(int, function["Runtime"].removeprefix("python").split("."))
    assert (major, minor) >= (3, 12)
    assert "ProvisionedConcurrencyConfig" not in function and "FileSystemConfigs" not in function
    assert function.get("EphemeralStorage", {"Size": 512})["Size"] <= 512
