"""The client's half of `lambdalite deploy`: read a SAM project folder into what the server needs.

From `DIR/template.yaml` (or `.yml`, `.json`) it finds, without resolving anything:
- each local code folder: `CodeUri` of `AWS::Serverless::Function` (and `Globals.Function.CodeUri`),
  a plain `AWS::Lambda::Function`'s `Code` given as a path; each is zipped deterministically
  (`codezip`) and named by SHA-256 (a `.zip` file is sent as it is);
- each local document the template pulls in: `Fn::Transform: AWS::Include` `Location`s and an
  `AWS::Serverless::Api`'s `DefinitionUri`, parsed (YAML or JSON);
- the saved test events: `events/*.json` beside the template, and in each code folder.
Keys are paths as the server normalises them (`./src/` -> `src`). The template is sent as text;
the server parses and validates it, so a YAML error is reported there, with its line.
Standard library, PyYAML and the pure `stacks.template` reader only: this runs on the user's
machine, not in the server.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .codezip import sha256_hex, zip_folder
from .errors import Problems, TemplateMissing
from .stacks.sam import normalise_path
from .stacks.template import load_document

TEMPLATE_NAMES = ("template.yaml", "template.yml", "template.json")


@dataclass
class Project:
    template_path: Path
    template_text: str
    code: dict[str, bytes] = field(default_factory=dict)                # normalised path -> zip
    includes: dict[str, Any] = field(default_factory=dict)              # location -> parsed document
    test_events: dict[str, dict[str, str]] = field(default_factory=dict)  # code path -> {name: JSON}

    @property
    def hashes(self) -> dict[str, str]:
        return {path: sha256_hex(data) for path, data in self.code.items()}


AWS_ZIPPED = 52_428_800      # AWS Lambda: a zip uploaded directly (50 MB)
AWS_UNZIPPED = 262_144_000   # AWS Lambda: code and layers unzipped (250 MB)


def over_aws_limits(code: dict[str, bytes], zipped_limit: int = AWS_ZIPPED, unzipped_limit: int = AWS_UNZIPPED,
                    ) -> list[str]:
    """Which code folders would not fit on AWS Lambda as they are (`lambdalite deploy --aws-limits`).
    Dependencies built from a requirements.txt count on AWS too: they are not in these zips."""
    warnings = []
    for key, data in sorted(code.items()):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unzipped = sum(info.file_size for info in archive.infolist())
        if len(data) > zipped_limit:
            warnings.append(f"CodeUri {key}: its zip is {len(data)} bytes, over AWS Lambda's {zipped_limit} for a "
                            "direct upload (on AWS it would go through S3)")
        if unzipped > unzipped_limit:
            warnings.append(f"CodeUri {key}: it is {unzipped} bytes unzipped, over AWS Lambda's {unzipped_limit} "
                            "(code and layers together); it would not deploy on AWS")
    return warnings


def find_template(folder: Path) -> Path:
    if folder.is_file():
        return folder
    for name in TEMPLATE_NAMES:
        if (folder / name).is_file():
            return folder / name
    raise TemplateMissing(f"no template.yaml in {folder.resolve()}: `lambdalite deploy DIR` reads DIR/template.yaml "
                          "(an AWS SAM template)")


def default_stack_name(folder: Path) -> str:
    """The folder's name as a stack name ([a-zA-Z][-a-zA-Z0-9]*): `hello_world` -> `hello-world`."""
    base = folder.resolve()
    name = re.sub(r"[^A-Za-z0-9-]+", "-", (base.parent if base.is_file() else base).name).strip("-")
    return (name if name[:1].isalpha() else f"stack-{name}")[:128] or "stack"


def read_project(folder: Path, on_zip: Callable[[str], None] | None = None) -> Project:
    template_path = find_template(folder)
    text = template_path.read_text(encoding="utf-8")
    project = Project(template_path, text)
    try:
        template = load_document(text)
    except yaml.YAMLError:
        return project  # the server reports the error with its line
    if not isinstance(template, dict):
        return project
    root = template_path.parent
    problems: list[str] = []
    for where, local in code_locations(template):
        if on_zip is not None and normalise_path(local) not in project.code:
            on_zip(normalise_path(local))
        _add_code(project, root, where, local, problems)
    for where, local in included_locations(template):
        _add_include(project, root, where, local, problems)
    _add_events(project, root, problems)
    if problems:
        raise Problems(problems, "project not sent")
    return project


def code_locations(template: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, local path) of every local code folder the template names."""
    globals_fn = _dict(_dict(template.get("Globals")).get("Function"))
    if _local(globals_fn.get("CodeUri")):
        yield "Globals.Function", globals_fn["CodeUri"]
    for lid, resource in _dict(template.get("Resources")).items():
        props = _dict(_dict(resource).get("Properties"))
        kind = _dict(resource).get("Type")
        if kind == "AWS::Serverless::Function" and _local(props.get("CodeUri")):
            yield f"Resource {lid}", props["CodeUri"]
        elif kind == "AWS::Serverless::LayerVersion" and _local(props.get("ContentUri")):
            yield f"Resource {lid}", props["ContentUri"]
        elif kind == "AWS::Lambda::Function" and _local(props.get("Code")):
            yield f"Resource {lid}", props["Code"]
        elif kind == "AWS::Lambda::LayerVersion" and _local(props.get("Content")):
            yield f"Resource {lid}", props["Content"]


def included_locations(template: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, str]]:
    """(where, local path) of every AWS::Include Location and local DefinitionUri."""
    if isinstance(template, list):
        for item in template:
            yield from included_locations(item, path)
        return
    if not isinstance(template, dict):
        return
    where = f"Resource {path[1]}" if len(path) > 1 and path[0] == "Resources" else (path[0] if path else "Template")
    transform = template.get("Fn::Transform")
    if isinstance(transform, dict) and transform.get("Name") == "AWS::Include":
        location = _dict(transform.get("Parameters")).get("Location")
        if isinstance(location, str) and _local(location):
            yield where, location
    for key, value in template.items():
        if key == "DefinitionUri" and _local(value):
            yield where, value
        else:
            yield from included_locations(value, (*path, str(key)))


def _add_code(project: Project, root: Path, where: str, local: str, problems: list[str]) -> None:
    key = normalise_path(local)
    if key in project.code:
        return
    target = (root / key).resolve()
    if target.is_dir():
        project.code[key] = zip_folder(target)
    elif target.is_file() and target.suffix == ".zip":
        project.code[key] = target.read_bytes()
    else:
        problems.append(f"{where}: CodeUri '{local}' not found: there is no folder {target}")


def _add_include(project: Project, root: Path, where: str, local: str, problems: list[str]) -> None:
    target = (root / normalise_path(local)).resolve()
    if not target.is_file():
        problems.append(f"{where}: '{local}' not found: there is no file {target}")
        return
    try:
        document = load_document(target.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        problems.append(f"{where}: '{local}' is not YAML or JSON: {e}")
        return
    project.includes[local] = project.includes[normalise_path(local)] = document


def _add_events(project: Project, root: Path, problems: list[str]) -> None:
    beside = _events_in(root / "events", problems)
    for key in project.code:
        folder = (root / key).resolve()
        own = _events_in(folder / "events", problems) if folder.is_dir() and folder != root.resolve() else {}
        if beside or own:
            project.test_events[key] = {**beside, **own}


def _events_in(folder: Path, problems: list[str]) -> dict[str, str]:
    events: dict[str, str] = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        text = path.read_text(encoding="utf-8")
        try:
            json.loads(text)
        except ValueError as e:
            problems.append(f"test event {path}: not JSON: {e}")
            continue
        events[path.stem] = text
    return events


def _local(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip()) and not value.startswith("s3://")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
