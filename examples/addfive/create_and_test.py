"""The guide's console steps with boto3: create `addfive`, then run its two test events.

    python examples/addfive/create_and_test.py [--endpoint http://127.0.0.1:9000]
"""

from __future__ import annotations

import argparse
import io
import json
import zipfile
from pathlib import Path

import boto3

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", default="http://127.0.0.1:9000")
    args = parser.parse_args()
    lam = boto3.client("lambda", endpoint_url=args.endpoint, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.write(HERE / "lambda_function.py", "lambda_function.py")
    try:
        lam.create_function(FunctionName="addfive", Runtime="python3.11", Handler="lambda_function.lambda_handler",
                            Role="arn:aws:iam::000000000000:role/lambda-role", Code={"ZipFile": buf.getvalue()})
    except lam.exceptions.ResourceConflictException:
        lam.update_function_code(FunctionName="addfive", ZipFile=buf.getvalue())
        lam.get_waiter("function_updated_v2").wait(FunctionName="addfive")
    lam.get_waiter("function_active_v2").wait(FunctionName="addfive")
    for event_file in sorted((HERE / "events").glob("*.json")):
        out = lam.invoke(FunctionName="addfive", Payload=event_file.read_bytes())
        print(f"{event_file.stem}: {json.loads(event_file.read_text())} -> {out['Payload'].read().decode()}")


if __name__ == "__main__":
    main()
