#!/usr/bin/python3
"""Small quantized models for tests/runtime/test_quant_models.c (fixed seed).

Run from this folder with Debian's python3-onnx: /usr/bin/python3 gen_quant_models.py
dynq.onnx: DynamicQuantizeLinear + MatMulInteger + Cast + Mul (+ Add) chains in
the layouts pass_quant.c fuses (weight scale Mul either side, no weight scale,
u8 and s8 weights, scalar and per-column zero points, full-range weights) and
one it must leave alone (the quantized activation also read elsewhere).
qdq.onnx: QuantizeLinear/DequantizeLinear + MatMul (+ Add) chains, u8 and s8
activations (one int32, as QuantizeLinear allows), per-tensor and per-column
weight scales, plus a constant
DequantizeLinear outside the pattern (folded at load).
bad_*.onnx: com.cinfer DynQMatMul / QDQMatMul nodes a loader must refuse.
"""
import numpy as np
import onnx
from onnx import TensorProto as T, helper as h, numpy_helper as nh

rng = np.random.default_rng(20261129)
K, N1, N2 = 37, 19, 23


def const(name, arr):
    return nh.from_array(np.asarray(arr), name)


def model(nodes, inits, outs, domains=(("", 17),), x_shape=(2, 5, K), name="m"):
    g = h.make_graph(nodes, name, [h.make_tensor_value_info("x", T.FLOAT, list(x_shape))],
                     [h.make_tensor_value_info(o, T.FLOAT, None) for o in outs], inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid(d, v) for d, v in domains],
                     producer_name="gen_quant_models")
    m.ir_version = 8
    return m


def dynq():
    nodes, inits = [], []

    def block(p, x, w, wz, ws, bias, ws_first):
        nodes.append(h.make_node("DynamicQuantizeLinear", [x], [p + "q", p + "s", p + "z"]))
        mi = [p + "q", p + "w", p + "z"] + ([p + "wz"] if wz is not None else [])
        nodes.append(h.make_node("MatMulInteger", mi, [p + "mm"]))
        nodes.append(h.make_node("Cast", [p + "mm"], [p + "c"], to=T.FLOAT))
        inits.append(const(p + "w", w))
        if wz is not None:
            inits.append(const(p + "wz", wz))
        if ws is None:
            nodes.append(h.make_node("Mul", [p + "c", p + "s"], [p + "m"]))
        else:
            inits.append(const(p + "ws", ws))
            a = [p + "s", p + "ws"] if ws_first else [p + "ws", p + "s"]
            nodes.append(h.make_node("Mul", a, [p + "sc"]))
            b = [p + "c", p + "sc"] if ws_first else [p + "sc", p + "c"]
            nodes.append(h.make_node("Mul", b, [p + "m"]))
        if bias is None:
            return p + "m"
        inits.append(const(p + "b", bias))
        nodes.append(h.make_node("Add", [p + "m", p + "b"], [p + "o"]))
        return p + "o"

    w1 = rng.integers(-128, 128, (K, N1), dtype=np.int8)          # full range: s16 layout
    y1 = block("a", "x", w1, np.int8(3), np.float32(0.02), rng.standard_normal(N1).astype(np.float32), True)
    w2 = rng.integers(70, 190, (N1, N2), dtype=np.uint8)          # u8, maddubs-safe
    y2 = block("b", y1, w2, rng.integers(100, 160, N2, dtype=np.uint8),
               (rng.random(N2) * 0.05).astype(np.float32), None, False)
    w3 = rng.integers(-60, 61, (N2, N1), dtype=np.int8)
    y3 = block("c", y2, w3, None, None, rng.standard_normal(N1).astype(np.float32), True)
    # left alone: the quantized activation has a second reader
    nodes.append(h.make_node("DynamicQuantizeLinear", [y3], ["dq", "ds", "dz"]))
    nodes.append(h.make_node("MatMulInteger", ["dq", "dw", "dz"], ["dmm"]))
    nodes.append(h.make_node("Cast", ["dmm"], ["dc"], to=T.FLOAT))
    nodes.append(h.make_node("Mul", ["dc", "ds"], ["dm"]))
    nodes.append(h.make_node("Cast", ["dq"], ["dqf"], to=T.FLOAT))
    nodes.append(h.make_node("ReduceSum", ["dqf"], ["dsum"], keepdims=1))
    nodes.append(h.make_node("Add", ["dm", "dsum"], ["y"]))
    inits.append(const("dw", rng.integers(-128, 128, (N1, 7), dtype=np.int8)))
    return model(nodes, inits, ["y"])


def qdq():
    nodes, inits = [], []

    def block(p, x, xs, xz, w, ws, wz, axis, bias):
        nodes.append(h.make_node("QuantizeLinear", [x, p + "xs", p + "xz"], [p + "q"]))
        nodes.append(h.make_node("DequantizeLinear", [p + "q", p + "xs", p + "xz"], [p + "dq"]))
        wi = [p + "w", p + "ws"] + ([p + "wz"] if wz is not None else [])
        nodes.append(h.make_node("DequantizeLinear", wi, [p + "dw"], axis=axis))
        nodes.append(h.make_node("MatMul", [p + "dq", p + "dw"], [p + "mm"]))
        inits.extend([const(p + "xs", xs), const(p + "xz", xz), const(p + "w", w), const(p + "ws", ws)])
        if wz is not None:
            inits.append(const(p + "wz", wz))
        if bias is None:
            return p + "mm"
        inits.append(const(p + "b", bias))
        nodes.append(h.make_node("Add", [p + "b", p + "mm"], [p + "o"]))
        return p + "o"

    y1 = block("a", "x", np.float32(0.02), np.uint8(128),
               rng.integers(-128, 128, (K, N1), dtype=np.int8),
               (rng.random(N1) * 0.01 + 0.001).astype(np.float32),
               np.zeros(N1, dtype=np.int8), 1, rng.standard_normal(N1).astype(np.float32))
    y2 = block("b", y1, np.float32(0.05), np.int8(-3),
               rng.integers(0, 256, (N1, N2), dtype=np.uint8), np.float32(0.004),
               np.uint8(120), 1, None)
    # QuantizeLinear of int32 (divides in double), into a third fused block
    nodes.append(h.make_node("Mul", ["x", "big"], ["yb"]))
    nodes.append(h.make_node("Cast", ["yb"], ["yi"], to=T.INT32))
    inits.append(const("big", np.float32(1000.0)))
    y3 = block("i", "yi", np.float32(7.0), np.uint8(100),
               rng.integers(-128, 128, (K, N2), dtype=np.int8), np.float32(0.003), None, 1, None)
    nodes.append(h.make_node("Add", [y2, y3], ["y23"]))
    y2 = "y23"
    # a constant DequantizeLinear outside the pattern: folded
    inits.extend([const("cq", rng.integers(0, 256, N2, dtype=np.uint8)), const("cs", np.float32(0.1)),
                  const("cz", np.uint8(7))])
    nodes.append(h.make_node("DequantizeLinear", ["cq", "cs", "cz"], ["cdq"]))
    nodes.append(h.make_node("Add", [y2, "cdq"], ["y"]))
    return model(nodes, inits, ["y"])


def bad(name, op, inputs, inits, **attrs):
    n = h.make_node(op, inputs, ["y"], domain="com.cinfer", **attrs)
    m = model([n], inits, ["y"], domains=(("", 17), ("com.cinfer", 1)))
    onnx.save(m, name)


def bads():
    w = const("w", rng.integers(-10, 10, (K, 4), dtype=np.int8))
    s = const("s", np.float32(0.5))
    bad("bad_dynq_attr.onnx", "DynQMatMul", ["x", "w", "s"], [w, s], alpha=1.0)
    bad("bad_dynq_w_rank.onnx", "DynQMatMul", ["x", "w1", "s"],
        [const("w1", np.zeros(K, dtype=np.int8)), s])
    bad("bad_dynq_scale_type.onnx", "DynQMatMul", ["x", "w", "si"], [w, const("si", np.int64(1))])
    bad("bad_dynq_scale_len.onnx", "DynQMatMul", ["x", "w", "s3"],
        [w, const("s3", np.ones(3, dtype=np.float32))])
    bad("bad_dynq_zp_type.onnx", "DynQMatMul", ["x", "w", "s", "zu"], [w, s, const("zu", np.uint8(1))])
    bad("bad_dynq_bias_len.onnx", "DynQMatMul", ["x", "w", "s", "", "b5"],
        [w, s, const("b5", np.ones(5, dtype=np.float32))])
    bad("bad_dynq_inputs.onnx", "DynQMatMul", ["x", "w"], [w])
    bad("bad_qdq_inputs.onnx", "QDQMatMul", ["x", "w", "s"], [w, s])
    bad("bad_qdq_xzp.onnx", "QDQMatMul", ["x", "w", "s", "", "", "s", "zf"], [w, s, const("zf", np.float32(1))])
    bad("bad_qdq_noscale.onnx", "QDQMatMul", ["x", "w", "s", "", "", ""], [w, s])


onnx.save(dynq(), "dynq.onnx")
onnx.save(qdq(), "qdq.onnx")
bads()
