#!/usr/bin/python3
"""Writes the small models and expected outputs of tests/runtime/test_gemm_*.c
into tests/runtime/vectors/ (fixed seed; run with Debian's python3-onnx)."""
import math
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "runtime",
                   "vectors")
rng = np.random.default_rng(9)


def rnd(*shape):
    return rng.uniform(-1, 1, size=shape).astype(np.float32)


def save(model, name, feeds, expect):
    with open(os.path.join(OUT, name + ".onnx"), "wb") as f:
        f.write(model.SerializeToString())
    for k, v in list(feeds.items()) + list(expect.items()):
        t = numpy_helper.from_array(np.asarray(v, dtype=np.float32), k)
        with open(os.path.join(OUT, "%s_%s.pb" % (name, k)), "wb") as f:
            f.write(t.SerializeToString())


def vi(name, shape):
    if shape is None:
        v = onnx.ValueInfoProto()
        v.name = name
        v.type.tensor_type.elem_type = TensorProto.FLOAT
        return v
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def gelu(x):
    erf = np.vectorize(math.erf)
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def gemm_ops():
    X, X2, X3 = rnd(4, 32, 64), rnd(5, 64), rnd(1, 64)
    W1, W2 = rnd(64, 96), rnd(96, 64)
    Cv, Cc, Cf = rnd(96), rnd(5, 1), rnd(5, 96)
    d = lambda a: a.astype(np.float64)
    exp = {
        "Y1": d(X) @ d(W1),
        "Y2": 0.5 * (d(X2) @ d(W2).T) + 2.0 * d(Cv),
        "Y3": d(X2) @ d(W1) + d(Cc),
        "Y4": d(X3) @ d(W1),
        "Y5": d(X2) @ d(W1) + 0.5 * d(Cf),
        "Y6": (d(X2).T.T @ d(W1)) * 1.0,
    }
    nodes = [
        helper.make_node("MatMul", ["X", "W1"], ["Y1"]),
        helper.make_node("Gemm", ["X2", "W2", "Cv"], ["Y2"], transB=1, alpha=0.5, beta=2.0),
        helper.make_node("Gemm", ["X2", "W1", "Cc"], ["Y3"]),
        helper.make_node("MatMul", ["X3", "W1"], ["Y4"]),
        helper.make_node("Gemm", ["X2", "W1", "Cf"], ["Y5"], beta=0.5),
        helper.make_node("Transpose", ["X2"], ["X2t"]),
        helper.make_node("Gemm", ["X2t", "W1"], ["Y6"], transA=1),
    ]
    inits = [numpy_helper.from_array(v, k) for k, v in
             (("W1", W1), ("W2", W2), ("Cv", Cv), ("Cc", Cc), ("Cf", Cf))]
    g = helper.make_graph(nodes, "gemm_ops", [vi("X", [4, 32, 64]), vi("X2", [5, 64]),
                                              vi("X3", [1, 64])],
                          [vi(k, None) for k in ("Y1", "Y2", "Y3", "Y4", "Y5", "Y6")], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    save(m, "gemm_ops", {"X": X, "X2": X2, "X3": X3}, exp)


def gemm_fuse():
    """MatMul + Add (+ Relu): fused; a shared MatMul output and a 2-D bias: not."""
    X = rnd(2, 8, 40)
    W, b, W2, b2, W3, b3, W4, b4 = (rnd(40, 48), rnd(48), rnd(48, 24), rnd(24), rnd(40, 20),
                                    rnd(20), rnd(40, 12), rnd(8, 12))
    d = lambda a: a.astype(np.float64)
    h = np.maximum(d(X) @ d(W) + d(b), 0)
    mm4 = d(X) @ d(W4)
    exp = {
        "Y1": h @ d(W2) + d(b2),
        "Y2": d(b3) + d(X) @ d(W3),
        "Y3": mm4 + d(b4),
        "Y4": mm4,
    }
    nodes = [
        helper.make_node("MatMul", ["X", "W"], ["m1"]),
        helper.make_node("Add", ["m1", "b"], ["a1"]),
        helper.make_node("Relu", ["a1"], ["r1"]),
        helper.make_node("MatMul", ["r1", "W2"], ["m2"]),
        helper.make_node("Add", ["m2", "b2"], ["Y1"]),
        helper.make_node("MatMul", ["X", "W3"], ["m3"]),
        helper.make_node("Add", ["b3", "m3"], ["Y2"]),
        helper.make_node("MatMul", ["X", "W4"], ["Y4"]),
        helper.make_node("Add", ["Y4", "b4"], ["Y3"]),
    ]
    inits = [numpy_helper.from_array(v, k) for k, v in
             (("W", W), ("b", b), ("W2", W2), ("b2", b2), ("W3", W3), ("b3", b3), ("W4", W4),
              ("b4", b4))]
    g = helper.make_graph(nodes, "gemm_fuse", [vi("X", [2, 8, 40])],
                          [vi(k, None) for k in ("Y1", "Y2", "Y3", "Y4")], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    save(m, "gemm_fuse", {"X": X}, exp)


def gemm_fuse_gelu():
    """MatMul + Add + com.cinfer Gelu (what the transformer pass makes of the erf form)."""
    X, W, b = rnd(2, 6, 40), rnd(40, 56), rnd(56)
    y = X.astype(np.float64) @ W.astype(np.float64) + b
    nodes = [
        helper.make_node("MatMul", ["X", "W"], ["m"]),
        helper.make_node("Add", ["m", "b"], ["a"]),
        helper.make_node("Gelu", ["a"], ["Y"], domain="com.cinfer"),
    ]
    g = helper.make_graph(nodes, "gemm_fuse_gelu", [vi("X", [2, 6, 40])], [vi("Y", None)],
                          [numpy_helper.from_array(W, "W"), numpy_helper.from_array(b, "b")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13),
                                            helper.make_opsetid("com.cinfer", 1)])
    m.ir_version = 8
    save(m, "gemm_fuse_gelu", {"X": X}, {"Y": gelu(y)})


def fused_direct(name, act, wshape=(40, 24), bshape=(24,), extra=None):
    """A com.cinfer FusedMatMul written in the file."""
    X, W, b = rnd(3, 40), rnd(*wshape), rnd(*bshape)
    attrs = {"activation": act} if act is not None else {}
    if extra:
        attrs.update(extra)
    node = helper.make_node("FusedMatMul", ["X", "W", "b"], ["Y"], domain="com.cinfer", **attrs)
    exp = {}
    if wshape == (40, 24) and bshape == (24,):
        y = X.astype(np.float64) @ W.astype(np.float64) + b
        exp["Y"] = gelu(y) if act == "Gelu" else np.maximum(y, 0) if act == "Relu" else y
    g = helper.make_graph([node], name, [vi("X", [3, 40])], [vi("Y", None)],
                          [numpy_helper.from_array(W, "W"), numpy_helper.from_array(b, "b")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13),
                                            helper.make_opsetid("com.cinfer", 1)])
    m.ir_version = 8
    save(m, name, {"X": X}, exp)


if __name__ == "__main__":
    gemm_ops()
    gemm_fuse()
    gemm_fuse_gelu()
    fused_direct("gemm_fused_gelu", "Gelu")
    fused_direct("gemm_fused_none", None)
    fused_direct("gemm_fused_badact", "Tanh")
    fused_direct("gemm_fused_badattr", "Relu", extra={"alpha": 2.0})
    fused_direct("gemm_fused_badbias", "Relu", bshape=(23,))
    fused_direct("gemm_fused_badw", "", wshape=(40, 24, 1))
    sys.exit(0)
