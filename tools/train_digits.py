#!/usr/bin/python3
"""Trains the demo model: a small MLP on scikit-learn's bundled 8x8 digits
(no download), and writes it as ONNX with python3-onnx.

Graph: input "pixels" float32 [N, 64] (values 0..16) -> Gemm -> Relu -> Gemm
-> Softmax -> output "probabilities" float32 [N, 10]. Fixed seed, so the
same Debian packages give the same file.

Usage: /usr/bin/python3 tools/train_digits.py models/digits.onnx
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier


def main(out):
    x, y = load_digits(return_X_y=True)
    x = x.astype(np.float32)
    xtr, xte, ytr, yte = train_test_split(x, y, test_size=0.25, random_state=7, stratify=y)
    # Scale inside the model so clients send raw pixel values 0..16.
    clf = MLPClassifier(hidden_layer_sizes=(32,), activation="relu", max_iter=600,
                        random_state=7)
    clf.fit(xtr / 16.0, ytr)
    acc = clf.score(xte / 16.0, yte)
    w1 = (clf.coefs_[0] / 16.0).astype(np.float32)
    b1 = clf.intercepts_[0].astype(np.float32)
    w2 = clf.coefs_[1].astype(np.float32)
    b2 = clf.intercepts_[1].astype(np.float32)

    nodes = [
        helper.make_node("Gemm", ["pixels", "w1", "b1"], ["h"], name="dense1"),
        helper.make_node("Relu", ["h"], ["hr"], name="relu1"),
        helper.make_node("Gemm", ["hr", "w2", "b2"], ["logits"], name="dense2"),
        helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1, name="softmax"),
    ]
    graph = helper.make_graph(
        nodes, "digits_mlp",
        [helper.make_tensor_value_info("pixels", TensorProto.FLOAT, ["N", 64])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["N", 10])],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(b1, "b1"),
         numpy_helper.from_array(w2, "w2"), numpy_helper.from_array(b2, "b2")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="cinfer-train-digits")
    model.ir_version = 8
    model.doc_string = "8x8 digits MLP; held-out accuracy %.4f" % acc
    onnx.checker.check_model(model)
    onnx.save(model, out)

    # Check the exported graph reproduces sklearn's predictions on the test set.
    h = np.maximum(xte @ w1 + b1, 0)
    logits = h @ w2 + b2
    agree = float(np.mean(np.argmax(logits, axis=1) == clf.predict(xte / 16.0)))
    print("digits: held-out accuracy %.4f (%d test images), export agrees %.4f, wrote %s"
          % (acc, len(yte), agree, out))
    # A few test images, for the demo and tests: first 8 of the held-out set.
    with open(out.replace(".onnx", "_samples.json"), "w") as f:
        import json
        json.dump({"pixels": xte[:8].tolist(), "labels": [int(v) for v in yte[:8]]}, f)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "models/digits.onnx")
