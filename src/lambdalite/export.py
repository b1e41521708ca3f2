"""`lambdalite export DIR --out OUT`: a SAM app made ready for AWS Lambda, as `sam build` would.

Per function (and per layer with `Metadata: BuildMethod`), the code folder and its requirements.txt
installed for Lambda's platform (uv's `--python-platform x86_64-manylinux2014` or
`aarch64-manylinux2014`, `--python-version` of the runtime, wheels only: AWS runs no build step)
are zipped as `OUT/<LogicalId>.zip`; `OUT/template.json` is the template with each `CodeUri` /
`ContentUri` pointing at its zip, ready for `sam deploy` or `aws cloudformation package`. A package
without such a wheel is a `BuildFailed` naming it. Runs on the user's machine (no server).
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .build import uv
from .codezip import zip_folder
from .errors import BuildFailed, TemplateMissing
from .stacks.template import load_document

PLATFORMS = {"x86_64": "x86_64-manylinux2014", "arm64": "aarch64-manylinux2014"}
TEMPLATE_NAMES = ("template.yaml", "template.yml", "template.json")


def export(folder: Path, out: Path, say: Callable[[str], None] = lambda line: None,
           timeout_s: float = 900.0) -> Path:
    """Write OUT/<LogicalId>.zip per function and layer, and OUT/template.json; answers the template's path."""
    template_path = next((folder / n for n in TEMPLATE_NAMES if (folder / n).is_file()), None)
    if template_path is None:
        raise TemplateMissing(f"no template.yaml in {folder.resolve()}: `lambdalite export DIR` reads "
                              "DIR/template.yaml")
    template = load_document(template_path.read_text(encoding="utf-8"))
    out.mkdir(parents=True, exist_ok=True)
    globals_fn = _dict(_dict(template.get("Globals")).get("Function"))
    for lid, resource in _dict(template.get("Resources")).items():
        props = _dict(_dict(resource).get("Properties"))
        kind = _dict(resource).get("Type")
        if kind == "AWS::Serverless::Function" and "InlineCode" not in props:
            uri = props.get("CodeUri", globals_fn.get("CodeUri"))
            runtime = str(props.get("Runtime") or globals_fn.get("Runtime") or _python())
            arch = (props.get("Architectures") or globals_fn.get("Architectures") or ["x86_64"])[0]
            if isinstance(uri, str) and not uri.startswith("s3://"):
                props["CodeUri"] = _package(folder / uri, out, lid, runtime, str(arch), "", say, timeout_s)
        elif kind == "AWS::Serverless::LayerVersion" and isinstance(props.get("ContentUri"), str):
            build = _dict(_dict(resource).get("Metadata")).get("BuildMethod")
            runtime = str(build or (props.get("CompatibleRuntimes") or [_python()])[0])
            arch = (props.get("CompatibleArchitectures") or ["x86_64"])[0]
            props["ContentUri"] = _package(folder / props["ContentUri"], out, lid, runtime, str(arch),
                                           "python" if build else None, say, timeout_s)
    target = out / "template.json"
    target.write_text(json.dumps(template, indent=2) + "\n")
    return target


def _package(source: Path, out: Path, lid: str, runtime: str, arch: str, into: str | None,
             say: Callable[[str], None], timeout_s: float) -> str:
    """The folder with its requirements installed for Lambda (into `into`/ of it; None: none), zipped."""
    with tempfile.TemporaryDirectory(prefix=f"lambdalite-export-{lid}-") as work:
        staged = Path(work) / "staged"
        shutil.copytree(source, staged, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".aws-sam"))
        requirements = staged / "requirements.txt"
        if into is not None and requirements.is_file():
            say(f"installing {lid}'s requirements for {runtime} on {PLATFORMS.get(arch, arch)} ...")
            install_for_lambda(requirements.read_text(), staged / into, runtime, arch, timeout_s)
        data = zip_folder(staged)
    name = f"{lid}.zip"
    (out / name).write_bytes(data)
    with zipfile.ZipFile(out / name) as check:
        say(f"wrote {out / name} ({len(data) // 1024} KB, {len(check.infolist())} files)")
    return name


def install_for_lambda(requirements: str, target: Path, runtime: str, arch: str, timeout_s: float) -> None:
    """Wheels for Lambda's platform only; BuildFailed naming what has none."""
    version = runtime.removeprefix("python")
    platform = PLATFORMS.get(arch)
    if platform is None:
        raise BuildFailed(f"architecture {arch!r} is not one AWS Lambda runs (x86_64, arm64)")
    with tempfile.TemporaryDirectory(prefix="lambdalite-export-req-") as folder:
        source = Path(folder) / "requirements.txt"
        source.write_text(requirements)
        uv.run([uv.uv_binary(), "pip", "install", "--target", str(target), "--python-platform", platform,
                "--python-version", version, "--only-binary", ":all:", "-r", str(source), "--quiet"],
               timeout_s, f"installing the requirements for AWS Lambda ({runtime}, {platform}, wheels only)")


def _python() -> str:
    return f"python{sys.version_info.major}.{sys.version_info.minor}"


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
