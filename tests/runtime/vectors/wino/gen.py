#!/usr/bin/python3
"""Generates the Winograd conv test vectors (tests/runtime/test_winograd.c).

Run with Debian's /usr/bin/python3 + python3-onnx + python3-numpy from this
folder: ./gen.py. Fixed seed; references come from naive float64 loops here.

  w_*.onnx / w_*_in.pb / w_*_out.pb: a 3x3 stride-1 Conv (odd and even H/W,
  1x1 spatial, pads 0, 1 and asymmetric, batch 2, channels not multiples of
  8, with and without bias), or Conv + Add(x) + Relu (the conv pass makes it
  a FusedConv with a residual sum and an activation).
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(20261130)


def save_pb(a, path):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(np.ascontiguousarray(a, np.float32)).SerializeToString())


def ref_conv(x, w, b, pads):
    n, c, h, wd = x.shape
    m = w.shape[0]
    xp = np.pad(x.astype(np.float64), [(0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])])
    oh, ow = xp.shape[2] - 2, xp.shape[3] - 2
    y = np.zeros((n, m, oh, ow))
    w64 = w.astype(np.float64)
    for ky in range(3):
        for kx in range(3):
            y += np.einsum("nchw,mc->nmhw", xp[:, :, ky:ky + oh, kx:kx + ow], w64[:, :, ky, kx])
    if b is not None:
        y += b.astype(np.float64)[None, :, None, None]
    return y


def case(name, xshape, oc, pads, bias=True, resid=False):
    n, c, h, wd = xshape
    x = rng.standard_normal(xshape).astype(np.float32)
    w = (rng.standard_normal((oc, c, 3, 3)) / np.sqrt(9 * c)).astype(np.float32)
    b = rng.standard_normal(oc).astype(np.float32) * 0.5 if bias else None
    inits = {"w": w}
    ins = ["x", "w"]
    if bias:
        inits["b"] = b
        ins.append("b")
    out = "c" if resid else "y"
    nodes = [helper.make_node("Conv", ins, [out], kernel_shape=[3, 3], pads=list(pads))]
    y = ref_conv(x, w, b, pads)
    if resid:
        nodes += [helper.make_node("Add", ["c", "x"], ["s"]), helper.make_node("Relu", ["s"], ["y"])]
        y = np.maximum(y + x.astype(np.float64), 0)
    g = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(xshape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(v, k) for k, v in inits.items()])
    mdl = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)],
                            producer_name="cinfer-gen")
    mdl.ir_version = 8
    onnx.save(mdl, f"w_{name}.onnx")
    save_pb(x, f"w_{name}_in.pb")
    save_pb(y, f"w_{name}_out.pb")


case("odd_b2", (2, 17, 9, 11), 19, (1, 1, 1, 1))
case("even_p0", (1, 16, 8, 10), 24, (0, 0, 0, 0), bias=False)
case("one", (1, 16, 1, 1), 16, (1, 1, 1, 1))
case("asym", (1, 20, 7, 6), 33, (1, 0, 0, 1))
case("resid", (2, 24, 13, 13), 24, (1, 1, 1, 1), resid=True)
case("parts", (1, 32, 28, 28), 32, (1, 1, 1, 1), resid=True)
case("wide", (1, 40, 29, 3), 18, (1, 1, 1, 1))
