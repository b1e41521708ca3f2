"""Train the champion and the challenger on the iris data (it ships with scikit-learn) and write
app/logistic.joblib (logistic regression, the champion) and app/forest.joblib (a small random
forest, the challenger). Run it with app/requirements.txt installed; the committed models were made
by this script with those versions (a model loads reliably only with the versions it was saved with):

    uv venv /tmp/cc && uv pip install --python /tmp/cc/bin/python -r app/requirements.txt
    /tmp/cc/bin/python train.py
"""

from pathlib import Path

import joblib
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split


def main() -> None:
    iris = load_iris(as_frame=True)
    frame, target = iris.data, iris.target_names[iris.target]
    train_x, test_x, train_y, test_y = train_test_split(frame, target, test_size=0.2, random_state=0)
    models = {"logistic": LogisticRegression(max_iter=500),
              "forest": RandomForestClassifier(n_estimators=12, max_depth=3, random_state=0)}
    for name, model in models.items():
        model.fit(train_x, train_y)
        out = Path(__file__).with_name("app") / f"{name}.joblib"
        joblib.dump(model, out, compress=3)
        print(f"{name}: accuracy on held-out flowers {model.score(test_x, test_y):.3f}; "
              f"wrote {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
