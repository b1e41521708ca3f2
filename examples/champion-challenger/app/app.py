"""One classifier function, two models: the MODEL variable (the template's Model parameter) names
the file loaded at init. Each published version keeps its variables, so version 1 can be the
logistic regression (the champion) and version 2 the random forest (the challenger).

POST /classify {"features": [sepal length, sepal width, petal length, petal width]}
-> {"class": "setosa", "model": "logistic", "probabilities": {...}}
"""

import json
import os
from pathlib import Path

import joblib
import pandas as pd

NAME = os.environ.get("MODEL", "logistic")
MODEL = joblib.load(Path(__file__).with_name(f"{NAME}.joblib"))   # once per instance, at init
COLUMNS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]


def classify(features):
    frame = pd.DataFrame([[float(x) for x in features]], columns=COLUMNS)
    probabilities = MODEL.predict_proba(frame)[0]
    names = [str(n) for n in MODEL.classes_]
    best = max(range(len(names)), key=lambda i: probabilities[i])
    return {"class": names[best], "model": NAME,
            "probabilities": {n: round(float(p), 3) for n, p in zip(names, probabilities, strict=True)}}


def lambda_handler(event, context):
    try:
        features = json.loads(event.get("body") or "{}")["features"]
        if len(features) != 4:
            raise ValueError("four features are needed")
        status, answer = 200, classify(features)
    except (KeyError, TypeError, ValueError) as e:
        status, answer = 400, {"error": f'send {{"features": [4 numbers]}}: {e}'}
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(answer)}
