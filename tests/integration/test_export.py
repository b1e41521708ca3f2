"""`lambdalite export`: a SAM app made ready for AWS Lambda, checked by AWS's own linter (cfn-lint)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import LAMBDALITE, ROLE, Server, boto_client, unique

ROOT = Path(__file__).resolve().parents[2]
CFN_LINT = str(Path(sys.executable).with_name("cfn-lint"))


def export(folder: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([LAMBDALITE, "export", str(folder), "--out", str(out)], capture_output=True, text=True,
                          timeout=600, check=False)


@pytest.fixture(scope="module")
def iris_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("iris-aws")
    done = export(ROOT / "examples" / "iris", out)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def test_the_iris_app_exports_with_lambdas_wheels_and_a_template_cfn_lint_accepts(iris_export: Path) -> None:
    out = iris_export
    template = json.loads((out / "template.json").read_text())
    assert template["Resources"]["IrisFunction"]["Properties"]["CodeUri"] == "IrisFunction.zip"
    with zipfile.ZipFile(out / "IrisFunction.zip") as z:
        names = set(z.namelist())
    assert {"app.py", "model.joblib", "requirements.txt", "sklearn/__init__.py", "pandas/__init__.py"} <= names
    assert any(n.endswith("cpython-311-x86_64-linux-gnu.so") for n in names)   # the runtime's Python, x86_64
    lint = subprocess.run([CFN_LINT, str(out / "template.json")], capture_output=True, text=True, timeout=300,
                          check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_a_requirement_without_a_wheel_for_lambda_is_an_error_naming_it(tmp_path: Path) -> None:
    app = tmp_path / "app"
    (app / "fn").mkdir(parents=True)
    (app / "template.yaml").write_text("Transform: AWS::Serverless-2016-10-31\nResources:\n  Fn:\n"
                                       "    Type: AWS::Serverless::Function\n"
                                       "    Properties: {CodeUri: fn/, Handler: app.h, Runtime: python3.11}\n")
    (app / "fn" / "app.py").write_text("def h(e, c):\n    return 1\n")
    (app / "fn" / "requirements.txt").write_text("pyyaml==5.1\n")     # published without Linux wheels
    done = export(app, tmp_path / "out")
    assert done.returncode == 1
    assert "pyyaml==5.1 has no usable wheels" in done.stderr and "wheels only" in done.stderr
    assert not (tmp_path / "out" / "Fn.zip").exists()


def test_exporting_a_folder_without_a_template_is_a_usage_error(tmp_path: Path) -> None:
    done = export(tmp_path, tmp_path / "out")
    assert done.returncode == 2 and "no template.yaml" in done.stderr


def test_a_zip_made_the_aws_way_runs_unchanged(iris_export: Path, server: Server) -> None:
    """The exported zip is what a user makes by hand for AWS (pip --target beside the code: about
    83 MB zipped, 260 MB unzipped): over AWS's 50 MB direct upload, within this server's limits."""
    data = (iris_export / "IrisFunction.zip").read_bytes()
    assert len(data) > 50 * 1024 * 1024
    lam = boto_client(server.base)
    name = unique("aws-way")
    lam.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE, Handler="app.lambda_handler",
                        Code={"ZipFile": data}, Timeout=60, MemorySize=512)
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 0.5, "MaxAttempts": 240})
    out = lam.invoke(FunctionName=name, Payload=json.dumps({"features": [6.7, 3.0, 5.2, 2.3]}).encode())
    assert json.loads(out["Payload"].read())["class"] == "virginica"
    lam.delete_function(FunctionName=name)
