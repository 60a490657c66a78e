#!/usr/bin/python3
"""Generates the synthetic models of cinfer's runtime benchmark (fixed seeds).

Usage: /usr/bin/python3 gen_models.py OUTDIR

Writes into OUTDIR (ONNX opset 17, IR 8, float32 inputs and outputs):
  mlp.onnx          MLP 784-512-512-10 (Gemm + Relu), input [1, 784]
  minilm_fp32.onnx  MiniLM-L6-shaped encoder: 6 layers, hidden 384, 12 heads,
                    FFN 1536 (exact Erf GELU), post-LayerNorm, seq 128;
                    input hidden states [batch, 128, 384] (batch symbolic)
  minilm_int8.onnx  the same encoder, every weight MatMul in ONNX Runtime's
                    dynamic-quantization form: DynamicQuantizeLinear (u8) +
                    MatMulInteger (u8 x s8 -> s32) + Cast + Mul by scales
                    (weights in 7 bits, see quant_weight)
  minilm_qdq.onnx   the same encoder in Q/DQ form: activations
                    QuantizeLinear/DequantizeLinear (u8, fixed scales),
                    weights s8 initializers behind DequantizeLinear
  minilm_{int8,qdq}_l1.onnx  their first layer alone: when the 6-layer
                    outputs of two engines differ, these show whether the
                    kernels agree (rounding flips of the quantizers compound
                    over layers)
  resnet18.onnx     ResNet-18-shaped CNN (Conv + BatchNormalization + Relu,
                    basic blocks 2-2-2-2, 64..512 channels), input
                    [1, 3, 224, 224], output [1, 1000]
Weights are random (numpy default_rng, fixed seeds), so the files are the
same on every run.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
SEQ, HID, HEADS, FFN, LAYERS = 128, 384, 12, 1536, 6


class G:
    """Small graph builder: nodes, initializers, unique names."""

    def __init__(self, rng):
        self.rng = rng
        self.nodes = []
        self.inits = []
        self.n = 0

    def name(self, p):
        self.n += 1
        return f"{p}_{self.n}"

    def const(self, arr, p="c"):
        nm = self.name(p)
        self.inits.append(numpy_helper.from_array(np.asarray(arr), nm))
        return nm

    def op(self, typ, ins, n_out=1, **attrs):
        outs = [self.name(typ.lower()) for _ in range(n_out)]
        self.nodes.append(helper.make_node(typ, ins, outs, **attrs))
        return outs[0] if n_out == 1 else outs

    def weight(self, k, n):
        return (self.rng.standard_normal((k, n)) / np.sqrt(k)).astype(np.float32)

    def bias(self, n):
        return (self.rng.standard_normal(n) * 0.02).astype(np.float32)


def save(g, inputs, outputs, path, name):
    graph = helper.make_graph(g.nodes, name, inputs, outputs, g.inits)
    model = helper.make_model(graph, producer_name="cinfer-bench",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


# ---- MLP ---------------------------------------------------------------------

def gen_mlp(path):
    g = G(np.random.default_rng(1001))
    x = "input"
    dims = [784, 512, 512, 10]
    for i in range(3):
        w = g.const(g.weight(dims[i], dims[i + 1]), "w")
        b = g.const(g.bias(dims[i + 1]), "b")
        x = g.op("Gemm", [x, w, b])
        if i < 2:
            x = g.op("Relu", [x])
    g.nodes[-1].output[0] = "logits"
    save(g, [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 784])],
         [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])], path, "mlp")


# ---- MiniLM-shaped encoder -----------------------------------------------------

def quant_weight(w):
    """Symmetric per-tensor s8 weights with 7 bits of range ([-63, 63]), as
    ONNX Runtime's quantizer does with reduce_range: its x86 u8 x s8 kernels
    (vpmaddubsw pairs) saturate int16 with full-range weights and then
    disagree with the exact result the ONNX spec asks for."""
    ws = np.float32(np.abs(w).max() / 63.0)
    return np.clip(np.rint(w / ws), -63, 63).astype(np.int8), ws


def linear(g, x, k, n, mode, act_scale):
    """x @ W + b in the given form. act_scale: (scale, zero point) for Q/DQ."""
    w = g.weight(k, n)
    b = g.const(g.bias(n), "b")
    if mode == "fp32":
        y = g.op("MatMul", [x, g.const(w, "w")])
    elif mode == "int8":
        wq, ws = quant_weight(w)
        xq, xs, xz = g.op("DynamicQuantizeLinear", [x], n_out=3)
        y32 = g.op("MatMulInteger", [xq, g.const(wq, "wq"), xz, g.const(np.int8(0), "wz")])
        yf = g.op("Cast", [y32], to=TensorProto.FLOAT)
        sc = g.op("Mul", [xs, g.const(ws, "ws")])
        y = g.op("Mul", [yf, sc])
    elif mode == "qdq":
        wq, ws = quant_weight(w)
        s, z = act_scale
        sc, zp = g.const(np.float32(s), "xs"), g.const(np.uint8(z), "xz")
        xq = g.op("QuantizeLinear", [x, sc, zp])
        xd = g.op("DequantizeLinear", [xq, sc, zp])
        wd = g.op("DequantizeLinear", [g.const(wq, "wq"), g.const(ws, "ws"),
                                       g.const(np.int8(0), "wz")])
        y = g.op("MatMul", [xd, wd])
    else:
        raise ValueError(mode)
    return g.op("Add", [y, b])


def layernorm(g, x):
    gamma = g.const((1.0 + 0.05 * g.rng.standard_normal(HID)).astype(np.float32), "gamma")
    beta = g.const((0.02 * g.rng.standard_normal(HID)).astype(np.float32), "beta")
    return g.op("LayerNormalization", [x, gamma, beta], axis=-1, epsilon=1e-12)


def gen_minilm(path, mode, layers=LAYERS):
    g = G(np.random.default_rng(2002))  # same weights in all three forms
    dh = HID // HEADS
    split = g.const(np.array([-1, SEQ, HEADS, dh], np.int64), "shape")
    merge = g.const(np.array([-1, SEQ, HID], np.int64), "shape")
    scale = g.const(np.float32(1.0 / np.sqrt(dh)), "scale")
    half = g.const(np.float32(0.5), "half")
    one = g.const(np.float32(1.0), "one")
    rsqrt2 = g.const(np.float32(1.0 / np.sqrt(2.0)), "rsqrt2")
    # Q/DQ activation ranges: first input in [-1, 1), LayerNorm outputs about
    # [-5, 5], GELU outputs about [-0.2, 6].
    ln_q, in_q, gelu_q = (10.0 / 255, 128), (2.0 / 255, 128), (6.2 / 255, 8)
    x = "hidden"
    for layer in range(layers):
        aq = in_q if layer == 0 else ln_q
        q = linear(g, x, HID, HID, mode, aq)
        k = linear(g, x, HID, HID, mode, aq)
        v = linear(g, x, HID, HID, mode, aq)
        qh = g.op("Transpose", [g.op("Reshape", [q, split])], perm=[0, 2, 1, 3])
        kh = g.op("Transpose", [g.op("Reshape", [k, split])], perm=[0, 2, 3, 1])
        vh = g.op("Transpose", [g.op("Reshape", [v, split])], perm=[0, 2, 1, 3])
        s = g.op("Mul", [g.op("MatMul", [qh, kh]), scale])
        p = g.op("Softmax", [s], axis=-1)
        ctx = g.op("MatMul", [p, vh])
        ctx = g.op("Reshape", [g.op("Transpose", [ctx], perm=[0, 2, 1, 3]), merge])
        o = linear(g, ctx, HID, HID, mode, ln_q)
        h = layernorm(g, g.op("Add", [x, o]))
        f = linear(g, h, HID, FFN, mode, ln_q)
        erf = g.op("Erf", [g.op("Mul", [f, rsqrt2])])
        f = g.op("Mul", [g.op("Mul", [f, half]), g.op("Add", [erf, one])])
        f = linear(g, f, FFN, HID, mode, gelu_q)
        x = layernorm(g, g.op("Add", [h, f]))
    g.nodes[-1].output[0] = "last_hidden_state"
    save(g, [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", SEQ, HID])],
         [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT,
                                        ["batch", SEQ, HID])], path,
         f"minilm_{mode}" + ("" if layers == LAYERS else f"_l{layers}"))


# ---- ResNet-18-shaped CNN ------------------------------------------------------

def conv_bn(g, x, cin, cout, k, stride, relu):
    w = (g.rng.standard_normal((cout, cin, k, k)) * np.sqrt(2.0 / (cin * k * k))).astype(np.float32)
    y = g.op("Conv", [x, g.const(w, "w")], kernel_shape=[k, k], strides=[stride, stride],
             pads=[k // 2] * 4)
    bn = [g.const(a.astype(np.float32), p) for a, p in (
        (g.rng.uniform(0.5, 1.5, cout), "gamma"), (g.rng.standard_normal(cout) * 0.1, "beta"),
        (g.rng.standard_normal(cout) * 0.1, "mean"), (g.rng.uniform(0.5, 1.5, cout), "var"))]
    y = g.op("BatchNormalization", [y] + bn, epsilon=1e-5)
    return g.op("Relu", [y]) if relu else y


def gen_resnet18(path):
    g = G(np.random.default_rng(3003))
    x = conv_bn(g, "image", 3, 64, 7, 2, True)
    x = g.op("MaxPool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    cin = 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        for blk in range(2):
            s = stride if blk == 0 else 1
            y = conv_bn(g, x, cin, cout, 3, s, True)
            y = conv_bn(g, y, cout, cout, 3, 1, False)
            sc = conv_bn(g, x, cin, cout, 1, s, False) if (s != 1 or cin != cout) else x
            x = g.op("Relu", [g.op("Add", [y, sc])])
            cin = cout
    x = g.op("Flatten", [g.op("GlobalAveragePool", [x])], axis=1)
    w = (g.rng.standard_normal((1000, 512)) / np.sqrt(512)).astype(np.float32)
    g.op("Gemm", [x, g.const(w, "fcw"), g.const(g.bias(1000), "fcb")], transB=1)
    g.nodes[-1].output[0] = "logits"
    save(g, [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 224, 224])],
         [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 1000])], path, "resnet18")


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen_models.py OUTDIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    gen_mlp(os.path.join(out, "mlp.onnx"))
    for mode in ("fp32", "int8", "qdq"):
        gen_minilm(os.path.join(out, f"minilm_{mode}.onnx"), mode)
    for mode in ("int8", "qdq"):
        gen_minilm(os.path.join(out, f"minilm_{mode}_l1.onnx"), mode, layers=1)
    gen_resnet18(os.path.join(out, "resnet18.onnx"))


if __name__ == "__main__":
    main()
