"""Train the iris classifier and write app/model.joblib (run with app/requirements.txt installed).

The iris data ships with scikit-learn: no download. The committed model was made by this script
with the versions pinned in app/requirements.txt; a model loads reliably only with the versions it
was saved with, so retrain when you change them:

    uv venv /tmp/iris && uv pip install --python /tmp/iris/bin/python -r app/requirements.txt
    /tmp/iris/bin/python train.py
"""

from pathlib import Path

import joblib
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split


def main() -> None:
    iris = load_iris(as_frame=True)
    frame, target = iris.data, iris.target_names[iris.target]
    train_x, test_x, train_y, test_y = train_test_split(frame, target, test_size=0.2, random_state=0)
    model = LogisticRegression(max_iter=500).fit(train_x, train_y)
    print(f"accuracy on held-out flowers: {model.score(test_x, test_y):.3f}")
    out = Path(__file__).with_name("app") / "model.joblib"
    joblib.dump(model, out)
    print(f"wrote {out} ({out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
