"""The iris classifier behind an API: the model is loaded once, at init; each call predicts.

POST /predict (a proxy integration): {"features": [sepal length, sepal width, petal length, petal
width]} -> {"class": "setosa", "probabilities": {"setosa": 0.97, ...}}. GET /predict?sepal_length=..
(a non-proxy integration whose mapping template builds {"features": [...]} from the query string,
as the guide's addfive API does) -> the same answer.
"""

import json
from pathlib import Path

import joblib
import pandas as pd

MODEL = joblib.load(Path(__file__).with_name("model.joblib"))   # once per instance, not per call
COLUMNS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]


def predict(features):
    """The class name and the probability of each class, for one flower."""
    frame = pd.DataFrame([[float(x) for x in features]], columns=COLUMNS)
    probabilities = MODEL.predict_proba(frame)[0]
    names = [str(name) for name in MODEL.classes_]
    best = max(range(len(names)), key=lambda i: probabilities[i])
    return {"class": names[best], "probabilities": {n: round(float(p), 4) for n, p in zip(names, probabilities)}}


def lambda_handler(event, context):
    proxy = "requestContext" in event
    try:
        body = json.loads(event.get("body") or "{}") if proxy else event
        features = body["features"]
        if len(features) != 4:
            raise ValueError("four features are needed")
        answer, status = predict(features), 200
    except (KeyError, TypeError, ValueError) as e:
        answer, status = {"error": f"send {{\"features\": [4 numbers]}}: {e}"}, 400
    if not proxy:
        if status != 200:
            raise ValueError(answer["error"])   # the non-proxy API maps this to 400
        return answer
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(answer)}
