#!/usr/bin/python3
"""Small models (batch dimension symbolic) for tests/runtime/test_tf.c (run with /usr/bin/python3 and
python3-onnx; fixed seed, so the files are reproducible):

tf_encoder.onnx  X[2,16,24] -> eight outputs: the transformer pieces the
  transformer pass and the fast paths of elementwise/norm/shape handle
  (three GELU spellings, one near miss that must stay unfused, a scaled
  attention softmax with the (0,2,1,3) and (0,2,3,1) transposes, bias and
  residual adds, LayerNormalization, two decomposed HardSwish spellings,
  per-channel broadcasts).
gelu_attr.onnx, gelu_two_in.onnx, gelu_int.onnx, ssm_noscale.onnx,
  ssm_extra.onnx, ssm_int.onnx, hswish_attr.onnx, hswish_int.onnx:
  com.cinfer Gelu / ScaledSoftmax / HardSwish nodes that
  must be refused at load (attribute, arity) or run (type); gelu_ok.onnx and
  ssm_ok.onnx are the good ones.
"""
import numpy as np
import onnx
from onnx import TensorProto, helper as h, numpy_helper as nh

rng = np.random.default_rng(20261129)


def const(name, arr):
    return nh.from_array(np.asarray(arr, dtype=np.float32), name)


def encoder():
    B, S, D, H = 2, 16, 24, 4
    dh = D // H
    inits = [
        const("rsqrt2", 0.70710678), const("sqrt2", 1.4142135), const("half", 0.5),
        const("one", 1.0), const("bias", rng.standard_normal(D)),
        const("gamma", rng.standard_normal(D)), const("beta", rng.standard_normal(D)),
        const("scale", 1.0 / np.sqrt(dh)), const("nearly", 1.01),
        nh.from_array(np.array([-1, S, H, dh], dtype=np.int64), "shp"),
        const("w", rng.standard_normal((D, D)) * 0.3),
        const("sqrtdh", np.sqrt(dh)), const("scale1", [0.3]),
        const("chanA", rng.standard_normal((S, 1))), const("chanB", rng.standard_normal((1, S, 1))),
        const("three", 3.0), const("zero", 0.0), const("six", 6.0), const("sixth", 1.0 / 6),
    ]
    n = []
    # bias add (last-axis vector), scalar Mul, residual add (same shape)
    n.append(h.make_node("Add", ["X", "bias"], ["xb"]))
    n.append(h.make_node("Mul", ["xb", "half"], ["xs"]))
    n.append(h.make_node("Add", ["xs", "X"], ["x0"]))
    # GELU 1 (MiniLM export): (x * 0.5) * (1 + erf(x * rsqrt2))
    n.append(h.make_node("Mul", ["x0", "rsqrt2"], ["g1u"]))
    n.append(h.make_node("Erf", ["g1u"], ["g1e"]))
    n.append(h.make_node("Mul", ["x0", "half"], ["g1h"]))
    n.append(h.make_node("Add", ["g1e", "one"], ["g1a"]))
    n.append(h.make_node("Mul", ["g1h", "g1a"], ["g1"]))
    # GELU 2 (HF/PyTorch): ((x * (erf(x / sqrt2) + 1)) * 0.5), operands swapped
    n.append(h.make_node("Div", ["g1", "sqrt2"], ["g2u"]))
    n.append(h.make_node("Erf", ["g2u"], ["g2e"]))
    n.append(h.make_node("Add", ["one", "g2e"], ["g2a"]))
    n.append(h.make_node("Mul", ["g1", "g2a"], ["g2m"]))
    n.append(h.make_node("Mul", ["half", "g2m"], ["g2"]))
    # GELU 3: x * ((1 + erf(rsqrt2 * x)) * 0.5), constants from Constant nodes
    n.append(h.make_node("Constant", [], ["c_r"], value=const("c_r", 0.70710678)))
    n.append(h.make_node("Constant", [], ["c_1"], value=const("c_1", 1.0)))
    n.append(h.make_node("Constant", [], ["c_h"], value=const("c_h", 0.5)))
    n.append(h.make_node("Mul", ["c_r", "g2"], ["g3u"]))
    n.append(h.make_node("Erf", ["g3u"], ["g3e"]))
    n.append(h.make_node("Add", ["g3e", "c_1"], ["g3a"]))
    n.append(h.make_node("Mul", ["g3a", "c_h"], ["g3h"]))
    n.append(h.make_node("Mul", ["g2", "g3h"], ["g3"]))
    # near miss: Add 1.01 instead of 1 (must stay as it is)
    n.append(h.make_node("Mul", ["g3", "rsqrt2"], ["g4u"]))
    n.append(h.make_node("Erf", ["g4u"], ["g4e"]))
    n.append(h.make_node("Add", ["g4e", "nearly"], ["g4a"]))
    n.append(h.make_node("Mul", ["g3", "g4a"], ["g4m"]))
    n.append(h.make_node("Mul", ["g4m", "half"], ["Y_gelu"]))
    # attention scores: q (0,2,1,3), k (0,2,3,1), scale, softmax
    n.append(h.make_node("MatMul", ["Y_gelu", "w"], ["proj"]))
    n.append(h.make_node("Reshape", ["proj", "shp"], ["q4"]))
    n.append(h.make_node("Transpose", ["q4"], ["q"], perm=[0, 2, 1, 3]))
    n.append(h.make_node("Reshape", ["X", "shp"], ["k4"]))
    n.append(h.make_node("Transpose", ["k4"], ["kt"], perm=[0, 2, 3, 1]))
    n.append(h.make_node("MatMul", ["q", "kt"], ["sc"]))
    n.append(h.make_node("Mul", ["sc", "scale"], ["scs"]))
    n.append(h.make_node("Softmax", ["scs"], ["Y_attn"], axis=-1))
    n.append(h.make_node("Transpose", ["Y_attn"], ["Y_t"], perm=[0, 1, 3, 2]))
    # Div by sqrt(dh), Softmax with the opset-13 default axis (fused)
    n.append(h.make_node("MatMul", ["q", "kt"], ["sc2"]))
    n.append(h.make_node("Div", ["sc2", "sqrtdh"], ["scd"]))
    n.append(h.make_node("Softmax", ["scd"], ["Y_attn2"]))
    # a [1]-shaped scale (must stay: it could raise the rank)
    n.append(h.make_node("MatMul", ["q", "kt"], ["sc3"]))
    n.append(h.make_node("Mul", ["sc3", "scale1"], ["sc3s"]))
    n.append(h.make_node("Softmax", ["sc3s"], ["Y_attn3"], axis=-1))
    # layer norm of the residual
    n.append(h.make_node("Add", ["Y_gelu", "x0"], ["res"]))
    n.append(h.make_node("LayerNormalization", ["res", "gamma", "beta"], ["Y_ln"],
                         axis=-1, epsilon=1e-5))
    # HardSwish twice: x * Clip(x + 3, 0, 6) / 6, then (3 + x) and * 1/6
    n.append(h.make_node("Add", ["x0", "three"], ["h1a"]))
    n.append(h.make_node("Clip", ["h1a", "zero", "six"], ["h1c"]))
    n.append(h.make_node("Mul", ["x0", "h1c"], ["h1m"]))
    n.append(h.make_node("Div", ["h1m", "six"], ["h1"]))
    n.append(h.make_node("Add", ["three", "h1"], ["h2a"]))
    n.append(h.make_node("Clip", ["h2a", "zero", "six"], ["h2c"]))
    n.append(h.make_node("Mul", ["h2c", "h1"], ["h2m"]))
    n.append(h.make_node("Mul", ["h2m", "sixth"], ["Y_hs"]))
    # per-channel broadcasts ([S,1] and [1,S,1] against [B,S,D]), both sides
    n.append(h.make_node("Mul", ["X", "chanA"], ["cm"]))
    n.append(h.make_node("Sub", ["chanB", "cm"], ["cs"]))
    n.append(h.make_node("Div", ["cs", "chanB"], ["Y_chan"]))
    g = h.make_graph(
        n, "tf_encoder",
        [h.make_tensor_value_info("X", TensorProto.FLOAT, ["batch", S, D])],
        [h.make_tensor_value_info("Y_gelu", TensorProto.FLOAT, ["batch", S, D]),
         h.make_tensor_value_info("Y_attn", TensorProto.FLOAT, ["batch", H, S, S]),
         h.make_tensor_value_info("Y_t", TensorProto.FLOAT, ["batch", H, S, S]),
         h.make_tensor_value_info("Y_ln", TensorProto.FLOAT, ["batch", S, D]),
         h.make_tensor_value_info("Y_attn2", TensorProto.FLOAT, ["batch", H, S, S]),
         h.make_tensor_value_info("Y_attn3", TensorProto.FLOAT, ["batch", H, S, S]),
         h.make_tensor_value_info("Y_hs", TensorProto.FLOAT, ["batch", S, D]),
         h.make_tensor_value_info("Y_chan", TensorProto.FLOAT, ["batch", S, D])],
        inits)
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 17)], producer_name="gen_tf")
    onnx.checker.check_model(m)
    onnx.save(m, "tf_encoder.onnx")
    reference(B, S, D, H, {t.name: nh.to_array(t) for t in inits})


def reference(B, S, D, H, c):
    """tf_encoder_ref.bin: X[2,16,24] then the six outputs, float32, computed
    here in float64 (an independent check of the fused/fast paths)."""
    import math
    dh = D // H
    X = (rng.standard_normal((B, S, D)) * 2).astype(np.float32)
    x = X.astype(np.float64)
    erf = np.vectorize(math.erf)
    gelu = lambda v: 0.5 * v * (1 + erf(v / math.sqrt(2)))
    hs = lambda v: v * np.clip(v + 3, 0, 6) / 6
    def softmax(v):
        v = v - v.max(-1, keepdims=True)
        ev = np.exp(v)
        return ev / ev.sum(-1, keepdims=True)
    x0 = (x + c["bias"]) * 0.5 + x
    g3 = gelu(gelu(gelu(x0)))
    g4 = g3 * (erf(g3 * 0.70710678) + 1.01) * 0.5
    q = (g4 @ c["w"].astype(np.float64)).reshape(B, S, H, dh).transpose(0, 2, 1, 3)
    kt = x.reshape(B, S, H, dh).transpose(0, 2, 3, 1)
    sc = q @ kt
    attn = softmax(sc * float(c["scale"]))
    res = g4 + x0
    mu = res.mean(-1, keepdims=True)
    var = ((res - mu) ** 2).mean(-1, keepdims=True)
    ln = (res - mu) / np.sqrt(var + 1e-5) * c["gamma"] + c["beta"]
    outs = [g4, attn, attn.transpose(0, 1, 3, 2), ln, softmax(sc / float(c["sqrtdh"])),
            softmax(sc * 0.3), hs(hs(x0)), (c["chanB"] - x * c["chanA"]) / c["chanB"]]
    with open("tf_encoder_ref.bin", "wb") as f:
        f.write(X.tobytes())
        for o in outs:
            f.write(o.astype(np.float32).tobytes())


def bad(name, n_in, attrs, dtype, op="Gelu"):
    ins = [h.make_tensor_value_info("X%d" % i, dtype, [3, 5]) for i in range(n_in)]
    node = h.make_node(op, [i.name for i in ins], ["Y"], domain="com.cinfer", **attrs)
    g = h.make_graph([node], name, ins, [h.make_tensor_value_info("Y", dtype, [3, 5])])
    m = h.make_model(g, opset_imports=[h.make_opsetid("", 17),
                                       h.make_opsetid("com.cinfer", 1)],
                     producer_name="gen_tf")
    onnx.save(m, name + ".onnx")


encoder()
bad("gelu_ok", 1, {}, TensorProto.FLOAT)
bad("gelu_attr", 1, {"approximate": "tanh"}, TensorProto.FLOAT)
bad("gelu_two_in", 2, {}, TensorProto.FLOAT)
bad("gelu_int", 1, {}, TensorProto.INT32)
bad("hswish_attr", 1, {"alpha": 0.2}, TensorProto.FLOAT, "HardSwish")
bad("hswish_int", 1, {}, TensorProto.INT32, "HardSwish")
bad("ssm_ok", 1, {"scale": 0.5}, TensorProto.FLOAT, "ScaledSoftmax")
bad("ssm_noscale", 1, {}, TensorProto.FLOAT, "ScaledSoftmax")
bad("ssm_extra", 1, {"scale": 0.5, "axis": 1}, TensorProto.FLOAT, "ScaledSoftmax")
bad("ssm_int", 1, {"scale": 0.5}, TensorProto.INT32, "ScaledSoftmax")
