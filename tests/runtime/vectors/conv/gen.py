#!/usr/bin/python3
"""Generates the conv/pool test vectors (tests/runtime/test_conv.c).

Run with Debian's /usr/bin/python3 + python3-onnx + python3-numpy from this
folder: ./gen.py. Fixed seed; the expected outputs come from naive loops in
float64 written here, not from any runtime.

  k_*.onnx     one Conv / MaxPool / AveragePool node, odd shapes, pads,
               strides, dilations, groups, 1x1, depthwise, batch 2;
               k_*_in.pb / k_*_out.pb input and reference output
  f_*.onnx     Conv + BatchNormalization + Add + activation chains the conv
               pass fuses (the test compares with the pass turned off);
               f_*_in.pb input
  bad_*.onnx   com.cinfer FusedConv nodes with bad attributes (must not load)
"""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(20261129)


def save_pb(a, path):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(np.ascontiguousarray(a, np.float32)).SerializeToString())


def model(nodes, inits, xshape, yname="y", opset=17, extra_opsets=()):
    g = helper.make_graph(
        nodes, "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(xshape))],
        [helper.make_tensor_value_info(yname, TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.asarray(v, np.float32) if v.dtype != np.int64 else v, k)
         for k, v in inits.items()])
    ops = [helper.make_opsetid("", opset)] + [helper.make_opsetid(d, v) for d, v in extra_opsets]
    m = helper.make_model(g, opset_imports=ops, producer_name="cinfer-gen")
    m.ir_version = 8
    return m


def pads_of(x_sp, k, s, d, pads, auto_pad):
    n = len(x_sp)
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        pb, pe = [], []
        for i in range(n):
            o = -(-x_sp[i] // s[i])
            tot = max(0, (o - 1) * s[i] + (k[i] - 1) * d[i] + 1 - x_sp[i])
            lo = tot // 2 if auto_pad == "SAME_UPPER" else tot - tot // 2
            pb.append(lo)
            pe.append(tot - lo)
        return pb, pe
    return list(pads[:n]), list(pads[n:])


def ref_conv(x, w, b, s, d, pb, pe, group):
    n, c = x.shape[:2]
    m = w.shape[0]
    ks = w.shape[2:]
    ns = len(ks)
    xp = np.pad(x.astype(np.float64), [(0, 0), (0, 0)] + [(pb[i], pe[i]) for i in range(ns)])
    out_sp = [(xp.shape[2 + i] - ((ks[i] - 1) * d[i] + 1)) // s[i] + 1 for i in range(ns)]
    y = np.zeros([n, m] + out_sp)
    cg, mg = c // group, m // group
    for o in np.ndindex(*out_sp):
        for kk in np.ndindex(*ks):
            idx = tuple(o[i] * s[i] + kk[i] * d[i] for i in range(ns))
            xv = xp[(slice(None), slice(None)) + idx]            # n, c
            for gi in range(group):
                wv = w[(slice(gi * mg, (gi + 1) * mg), slice(None)) + kk].astype(np.float64)  # mg, cg
                y[(slice(None), slice(gi * mg, (gi + 1) * mg)) + o] += xv[:, gi * cg:(gi + 1) * cg] @ wv.T
    if b is not None:
        y += b.reshape([1, m] + [1] * ns)
    return y


def conv_case(name, n, c, m, sp, k, s=None, d=None, pads=None, group=1, bias=True,
              auto_pad=None):
    ns = len(sp)
    s = s or [1] * ns
    d = d or [1] * ns
    pads = pads or [0] * (2 * ns)
    x = rng.standard_normal([n, c] + sp).astype(np.float32)
    w = (rng.standard_normal([m, c // group] + k) * 0.3).astype(np.float32)
    b = rng.standard_normal([m]).astype(np.float32) if bias else None
    attrs = dict(kernel_shape=k, strides=s, dilations=d, group=group)
    if auto_pad:
        attrs["auto_pad"] = auto_pad
    else:
        attrs["pads"] = pads
    inits = {"w": w}
    ins = ["x", "w"]
    if bias:
        inits["b"] = b
        ins.append("b")
    node = helper.make_node("Conv", ins, ["y"], **attrs)
    pb, pe = pads_of(sp, k, s, d, pads, auto_pad)
    y = ref_conv(x, w, b, s, d, pb, pe, group)
    onnx.save(model([node], inits, x.shape), f"k_{name}.onnx")
    save_pb(x, f"k_{name}_in.pb")
    save_pb(y, f"k_{name}_out.pb")


def ref_pool(x, k, s, pb, pe, ceil_mode, avg, incl):
    n, c, h, w = x.shape
    oh = [0, 0]
    for i, (L, kk, ss) in enumerate(((h, k[0], s[0]), (w, k[1], s[1]))):
        span = L + pb[i] + pe[i] - kk
        if ceil_mode:
            o = -(-span // ss) + 1
            if (o - 1) * ss >= L + pb[i]:
                o -= 1
        else:
            o = span // ss + 1
        oh[i] = o
    y = np.zeros([n, c] + oh)
    for oy in range(oh[0]):
        for ox in range(oh[1]):
            vals, cnt = [], 0
            for ky in range(k[0]):
                for kx in range(k[1]):
                    iy, ix = oy * s[0] - pb[0] + ky, ox * s[1] - pb[1] + kx
                    if 0 <= iy < h and 0 <= ix < w:
                        vals.append(x[:, :, iy, ix].astype(np.float64))
                        cnt += 1
                    elif incl and iy < h + pe[0] and ix < w + pe[1]:
                        cnt += 1
            if avg:
                y[:, :, oy, ox] = sum(vals) / cnt if cnt else 0
            else:
                y[:, :, oy, ox] = np.max(vals, axis=0) if vals else -np.inf
    return y


def pool_case(name, op, shape, k, s, pads, ceil_mode=0, incl=0):
    x = rng.standard_normal(shape).astype(np.float32)
    attrs = dict(kernel_shape=k, strides=s, pads=pads)
    if ceil_mode:
        attrs["ceil_mode"] = 1
    if op == "AveragePool":
        attrs["count_include_pad"] = incl
    node = helper.make_node(op, ["x"], ["y"], **attrs)
    y = ref_pool(x, k, s, pads[:2], pads[2:], ceil_mode, op == "AveragePool", incl)
    onnx.save(model([node], {}, x.shape), f"k_{name}.onnx")
    save_pb(x, f"k_{name}_in.pb")
    save_pb(y, f"k_{name}_out.pb")


conv_case("3x3_pad", 2, 5, 7, [13, 11], [3, 3], pads=[1, 1, 1, 1])
conv_case("3x3_s2_asym", 1, 3, 17, [17, 9], [3, 3], s=[2, 2], pads=[0, 1, 1, 2])
conv_case("5x5_dil2", 1, 4, 6, [19, 21], [5, 5], d=[2, 2], pads=[2, 3, 2, 1])
conv_case("group2", 1, 6, 10, [9, 7], [3, 3], s=[2, 1], pads=[1, 1, 1, 1], group=2)
conv_case("1x1", 2, 33, 7, [7, 9], [1, 1], bias=False)
conv_case("1x1_s2", 1, 8, 16, [9, 9], [1, 1], s=[2, 2])
conv_case("dw3x3", 1, 7, 7, [17, 33], [3, 3], pads=[1, 1, 1, 1], group=7)
conv_case("dw5x5_s2", 2, 9, 9, [33, 17], [5, 5], s=[2, 2], pads=[2, 2, 2, 2], group=9)
conv_case("dw3x3_dil", 1, 5, 5, [15, 16], [3, 3], s=[2, 2], d=[2, 2], pads=[1, 0, 2, 1],
          group=5, bias=False)
conv_case("dw_same", 1, 4, 4, [16, 15], [3, 3], s=[2, 2], group=4, auto_pad="SAME_UPPER")
conv_case("dw_s3_big", 1, 3, 3, [7, 40], [1, 7], s=[1, 3], pads=[0, 3, 0, 3], group=3)
conv_case("dw_mult", 1, 3, 6, [8, 9], [3, 3], pads=[1, 1, 1, 1], group=3)
conv_case("dw_wide", 2, 3, 3, [5, 83], [3, 3], pads=[1, 1, 1, 1], group=3)
conv_case("dw_wide_s2", 1, 4, 4, [7, 150], [5, 5], s=[2, 2], d=[1, 2], pads=[2, 3, 1, 4],
          group=4)
conv_case("tile", 1, 48, 5, [29, 31], [3, 3], pads=[1, 1, 1, 1])
conv_case("tile_s2", 1, 40, 6, [61, 57], [3, 3], s=[2, 2], d=[1, 2], pads=[1, 2, 0, 2])
conv_case("1x1_wide", 2, 20, 9, [23, 25], [1, 1])
conv_case("1d", 1, 3, 5, [17], [3], pads=[1, 1])
conv_case("3d", 1, 2, 3, [5, 6, 7], [3, 2, 3], s=[1, 2, 1], pads=[1, 0, 1, 1, 1, 0])
pool_case("max3_s2", "MaxPool", [2, 3, 17, 16], [3, 3], [2, 2], [1, 1, 1, 1])
pool_case("max2_ceil", "MaxPool", [1, 4, 9, 11], [2, 2], [2, 2], [0, 0, 0, 0], ceil_mode=1)
pool_case("max5_s1", "MaxPool", [1, 2, 7, 33], [5, 5], [1, 1], [2, 2, 2, 2])
pool_case("max_s3", "MaxPool", [1, 2, 13, 14], [3, 2], [3, 3], [1, 0, 0, 1])
pool_case("avg3_excl", "AveragePool", [1, 3, 13, 12], [3, 3], [1, 1], [1, 1, 1, 1])
pool_case("avg3_incl", "AveragePool", [1, 3, 13, 12], [3, 3], [2, 2], [1, 1, 1, 1], incl=1)
pool_case("avg2_ceil", "AveragePool", [1, 3, 9, 7], [2, 2], [2, 2], [0, 0, 1, 0], ceil_mode=1,
          incl=1)


def convt_case(name, n, c, m, sp, k, s, pads, group=1, d=None, out_pad=None):
    d = d or [1, 1]
    x = rng.standard_normal([n, c] + sp).astype(np.float32)
    w = (rng.standard_normal([c, m // group] + k) * 0.3).astype(np.float32)
    b = rng.standard_normal([m]).astype(np.float32)
    op = out_pad or [0, 0]
    full = [s[i] * (sp[i] - 1) + op[i] + (k[i] - 1) * d[i] + 1 for i in range(2)]
    out = [full[i] - pads[i] - pads[i + 2] for i in range(2)]
    y = np.zeros([n, m] + out)
    cg, mg = c // group, m // group
    for i0 in range(sp[0]):
        for i1 in range(sp[1]):
            for k0 in range(k[0]):
                for k1 in range(k[1]):
                    o0 = i0 * s[0] - pads[0] + k0 * d[0]
                    o1 = i1 * s[1] - pads[1] + k1 * d[1]
                    if not (0 <= o0 < out[0] and 0 <= o1 < out[1]):
                        continue
                    for gi in range(group):
                        xv = x[:, gi * cg:(gi + 1) * cg, i0, i1].astype(np.float64)
                        wv = w[gi * cg:(gi + 1) * cg, :, k0, k1].astype(np.float64)
                        y[:, gi * mg:(gi + 1) * mg, o0, o1] += xv @ wv
    y += b.reshape(1, m, 1, 1)
    attrs = dict(kernel_shape=k, strides=s, pads=pads, group=group, dilations=d)
    if out_pad:
        attrs["output_padding"] = out_pad
    node = helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], **attrs)
    onnx.save(model([node], {"w": w, "b": b}, x.shape), f"k_{name}.onnx")
    save_pb(x, f"k_{name}_in.pb")
    save_pb(y, f"k_{name}_out.pb")


convt_case("convt_s2", 1, 5, 6, [9, 11], [2, 2], [2, 2], [0, 0, 0, 0])
convt_case("convt_g2", 2, 6, 4, [7, 6], [3, 3], [2, 2], [1, 0, 1, 2], group=2, d=[1, 2],
           out_pad=[1, 0])


def global_case(name, op, shape):
    x = rng.standard_normal(shape).astype(np.float32)
    x64 = x.astype(np.float64)
    y = x64.mean(axis=(2, 3), keepdims=True) if op == "GlobalAveragePool" else \
        x64.max(axis=(2, 3), keepdims=True)
    onnx.save(model([helper.make_node(op, ["x"], ["y"])], {}, x.shape), f"k_{name}.onnx")
    save_pb(x, f"k_{name}_in.pb")
    save_pb(y, f"k_{name}_out.pb")


global_case("gavg", "GlobalAveragePool", [2, 3, 7, 9])
global_case("gmax", "GlobalMaxPool", [1, 5, 5, 5])


# ---- fusions ------------------------------------------------------------------
def bn_params(m, pfx, inits):
    inits[pfx + "_s"] = rng.uniform(0.5, 1.5, m).astype(np.float32)
    inits[pfx + "_b"] = rng.standard_normal(m).astype(np.float32)
    inits[pfx + "_m"] = (rng.standard_normal(m) * 0.1).astype(np.float32)
    inits[pfx + "_v"] = rng.uniform(0.5, 1.5, m).astype(np.float32)
    return [pfx + "_s", pfx + "_b", pfx + "_m", pfx + "_v"]


def conv_w(c, m, k, group, pfx, inits, bias=True):
    inits[pfx + "_w"] = (rng.standard_normal([m, c // group, k, k]) * 0.3).astype(np.float32)
    ins = [pfx + "_w"]
    if bias:
        inits[pfx + "_bias"] = rng.standard_normal(m).astype(np.float32)
        ins.append(pfx + "_bias")
    return ins


def fused(name, build, shape, opset=17):
    inits, nodes = {}, []
    build(nodes, inits)
    x = rng.standard_normal(shape).astype(np.float32)
    onnx.save(model(nodes, inits, shape, opset=opset), f"f_{name}.onnx")
    save_pb(x, f"f_{name}_in.pb")


def resblock(nodes, inits):
    # stem conv+bn+relu, then a residual block whose downsample branch
    # comes after the main branch in node order (the sum is made late)
    nodes.append(helper.make_node("Conv", ["x"] + conv_w(3, 8, 3, 1, "c0", inits), ["t0"],
                                  pads=[1, 1, 1, 1]))
    nodes.append(helper.make_node("BatchNormalization", ["t0"] + bn_params(8, "bn0", inits),
                                  ["t1"], epsilon=1e-3))
    nodes.append(helper.make_node("Relu", ["t1"], ["a0"]))
    nodes.append(helper.make_node("Conv", ["a0"] + conv_w(8, 16, 3, 1, "c1", inits, False),
                                  ["t2"], pads=[1, 1, 1, 1], strides=[2, 2]))
    nodes.append(helper.make_node("BatchNormalization", ["t2"] + bn_params(16, "bn1", inits),
                                  ["t3"]))
    nodes.append(helper.make_node("Relu", ["t3"], ["a1"]))
    nodes.append(helper.make_node("Conv", ["a1"] + conv_w(16, 16, 3, 1, "c2", inits, False),
                                  ["t4"], pads=[1, 1, 1, 1]))
    nodes.append(helper.make_node("BatchNormalization", ["t4"] + bn_params(16, "bn2", inits),
                                  ["t5"]))
    nodes.append(helper.make_node("Conv", ["a0"] + conv_w(8, 16, 1, 1, "cd", inits, False),
                                  ["t6"], strides=[2, 2]))
    nodes.append(helper.make_node("BatchNormalization", ["t6"] + bn_params(16, "bnd", inits),
                                  ["t7"]))
    nodes.append(helper.make_node("Add", ["t5", "t7"], ["t8"]))
    nodes.append(helper.make_node("Relu", ["t8"], ["t9"]))
    # identity residual: Add(block input, conv) then Relu
    nodes.append(helper.make_node("Conv", ["t9"] + conv_w(16, 16, 3, 1, "c3", inits),
                                  ["t10"], pads=[1, 1, 1, 1]))
    nodes.append(helper.make_node("Add", ["t9", "t10"], ["t11"]))
    nodes.append(helper.make_node("Relu", ["t11"], ["t12"]))
    nodes.append(helper.make_node("MaxPool", ["t12"], ["y"], kernel_shape=[3, 3],
                                  strides=[2, 2], pads=[1, 1, 1, 1]))


def mobile(nodes, inits):
    # PP-OCR-like: conv+bn+hardswish, depthwise+bn+relu, 1x1+bn+hardsigmoid,
    # clip (opset 11+ inputs), leaky relu, sigmoid, and a broadcast sum
    inits["lo"] = np.array(-0.5, np.float32)
    inits["hi"] = np.array(0.75, np.float32)
    nodes.append(helper.make_node("Conv", ["x"] + conv_w(3, 8, 3, 1, "m0", inits, False),
                                  ["u0"], pads=[1, 1, 1, 1], strides=[2, 2]))
    nodes.append(helper.make_node("BatchNormalization", ["u0"] + bn_params(8, "mb0", inits),
                                  ["u1"]))
    nodes.append(helper.make_node("HardSwish", ["u1"], ["u2"]))
    nodes.append(helper.make_node("Conv", ["u2"] + conv_w(8, 8, 3, 8, "m1", inits, False),
                                  ["u3"], pads=[1, 1, 1, 1], group=8))
    nodes.append(helper.make_node("BatchNormalization", ["u3"] + bn_params(8, "mb1", inits),
                                  ["u4"]))
    nodes.append(helper.make_node("Relu", ["u4"], ["u5"]))
    nodes.append(helper.make_node("Conv", ["u5"] + conv_w(8, 12, 1, 1, "m2", inits, False),
                                  ["u6"]))
    nodes.append(helper.make_node("BatchNormalization", ["u6"] + bn_params(12, "mb2", inits),
                                  ["u7"]))
    nodes.append(helper.make_node("HardSigmoid", ["u7"], ["u8"], alpha=0.3, beta=0.4))
    nodes.append(helper.make_node("Conv", ["u8"] + conv_w(12, 12, 5, 12, "m3", inits),
                                  ["u9"], pads=[2, 2, 2, 2], strides=[2, 2], group=12))
    nodes.append(helper.make_node("Clip", ["u9", "lo", "hi"], ["u10"]))
    nodes.append(helper.make_node("Conv", ["u10"] + conv_w(12, 6, 3, 1, "m4", inits),
                                  ["u11"], pads=[1, 1, 1, 1]))
    nodes.append(helper.make_node("LeakyRelu", ["u11"], ["u12"], alpha=0.2))
    nodes.append(helper.make_node("Conv", ["u12"] + conv_w(6, 6, 1, 1, "m5", inits), ["u13"]))
    nodes.append(helper.make_node("Sigmoid", ["u13"], ["u14"]))
    inits["rowsum"] = rng.standard_normal([6, 1, 1]).astype(np.float32)
    nodes.append(helper.make_node("Mul", ["u14", "rowsum"], ["u15"]))
    nodes.append(helper.make_node("ReduceMean", ["u15"], ["u16"], axes=[2, 3], keepdims=1))
    nodes.append(helper.make_node("Conv", ["u14"] + conv_w(6, 6, 3, 6, "m6", inits),
                                  ["u17"], pads=[1, 1, 1, 1], group=6))
    nodes.append(helper.make_node("Add", ["u16", "u17"], ["y"]))


def dwacts(nodes, inits):
    # depthwise convs, each with another activation (the AVX2 epilogue of
    # the depthwise kernel), a constant Mul/Add after a conv (folded), and
    # HardSwish written out as paddle2onnx does (opset 11 Clip inputs)
    inits["three"] = np.array([3.0], np.float32)
    inits["zero"] = np.array(0.0, np.float32)
    inits["six"] = np.array(6.0, np.float32)
    inits["six1"] = np.array([6.0], np.float32)
    inits["lo"] = np.array(-0.25, np.float32)
    inits["hi"] = np.array(0.5, np.float32)
    inits["sc"] = np.array([0.75], np.float32)
    inits["sh"] = rng.standard_normal([4, 1, 1]).astype(np.float32)
    cur = "x"
    acts = [("HardSwish", {}), ("LeakyRelu", {"alpha": 0.1}), ("HardSigmoid", {}),
            ("Clip", None), ("Relu", {}), ("Sigmoid", {}), ("paddle", None)]
    for i, (act, attrs) in enumerate(acts):
        t = f"d{i}"
        nodes.append(helper.make_node("Conv", [cur] + conv_w(4, 4, 3, 4, f"dw{i}", inits, i % 2 == 0),
                                      [t + "c"], pads=[1, 1, 1, 1], group=4,
                                      strides=[1, 2] if i == 3 else [1, 1]))
        nodes.append(helper.make_node("BatchNormalization", [t + "c"] + bn_params(4, f"db{i}", inits),
                                      [t + "b"]))
        if act == "paddle":
            nodes.append(helper.make_node("Mul", ["sc", t + "b"], [t + "m"]))
            nodes.append(helper.make_node("Add", [t + "m", "sh"], [t + "a"]))
            nodes.append(helper.make_node("Add", [t + "a", "three"], [t + "a3"]))
            nodes.append(helper.make_node("Clip", [t + "a3", "zero", "six"], [t + "cl"]))
            nodes.append(helper.make_node("Mul", [t + "a", t + "cl"], [t + "mm"]))
            nodes.append(helper.make_node("Div", [t + "mm", "six1"], ["y"]))
        elif act == "Clip":
            nodes.append(helper.make_node("Clip", [t + "b", "lo", "hi"], [t]))
        else:
            nodes.append(helper.make_node(act, [t + "b"], [t], **attrs))
        cur = t


def bigsum(nodes, inits):
    # the residual sum is larger than the conv output: Add broadcasts the
    # conv's [N, C, 1, 1] over the sum's [N, C, H, W]
    nodes.append(helper.make_node("GlobalAveragePool", ["x"], ["p"]))
    nodes.append(helper.make_node("Conv", ["p"] + conv_w(4, 4, 1, 1, "g0", inits), ["q"]))
    nodes.append(helper.make_node("Add", ["q", "x"], ["r"]))
    nodes.append(helper.make_node("Relu", ["r"], ["y"]))


def inaffine(nodes, inits):
    # Mul / Add by scalars before convs: into the weights and bias of 1x1
    # convs (either order, grouped too); as FusedConv in_scale / in_shift
    # before a padded 3x3 (large enough for the tiled im2col) and a
    # depthwise 3x3 with stride 2
    inits["s1"] = np.array([0.8], np.float32)
    inits["c1"] = np.array(0.3, np.float32)
    inits["s2"] = np.array([-1.25], np.float32)
    inits["c2"] = np.array([0.5], np.float32)
    nodes.append(helper.make_node("HardSwish", ["x"], ["h0"]))
    nodes.append(helper.make_node("Mul", ["s1", "h0"], ["h1"]))
    nodes.append(helper.make_node("Add", ["h1", "c1"], ["h2"]))
    nodes.append(helper.make_node("Conv", ["h2"] + conv_w(4, 6, 1, 1, "a0", inits), ["h3"]))
    nodes.append(helper.make_node("Relu", ["h3"], ["h4"]))
    nodes.append(helper.make_node("Add", ["h4", "c2"], ["h5"]))
    nodes.append(helper.make_node("Mul", ["h5", "s2"], ["h6"]))
    nodes.append(helper.make_node("Conv", ["h6"] + conv_w(6, 4, 1, 2, "a1", inits, False),
                                  ["h7r"], group=2))
    nodes.append(helper.make_node("Relu", ["h7r"], ["h7"]))
    nodes.append(helper.make_node("Add", ["h7", "c2"], ["h8"]))
    nodes.append(helper.make_node("Mul", ["h8", "s2"], ["h9"]))
    nodes.append(helper.make_node("Conv", ["h9"] + conv_w(4, 4, 3, 1, "a2", inits),
                                  ["h10"], pads=[1, 1, 1, 1]))
    nodes.append(helper.make_node("Relu", ["h10"], ["h11"]))
    nodes.append(helper.make_node("Mul", ["h11", "s1"], ["h12"]))
    nodes.append(helper.make_node("Add", ["c1", "h12"], ["h13"]))
    nodes.append(helper.make_node("Conv", ["h13"] + conv_w(4, 4, 3, 4, "a3", inits),
                                  ["y"], pads=[1, 1, 1, 1], strides=[2, 2], group=4))


fused("resblock", resblock, [2, 3, 17, 15])
fused("mobile", mobile, [1, 3, 21, 26])
fused("dwacts", dwacts, [1, 4, 5, 77])
fused("bigsum", bigsum, [2, 4, 6, 7])
fused("inaffine", inaffine, [1, 4, 61, 62])


# ---- FusedConv nodes written by hand ------------------------------------------
def fused_node(name, **attrs):
    inits = {"w": (rng.standard_normal([4, 3, 3, 3]) * 0.3).astype(np.float32)}
    node = helper.make_node("FusedConv", ["x", "w"], ["y"], domain="com.cinfer",
                            pads=[1, 1, 1, 1], **attrs)
    onnx.save(model([node], inits, [1, 3, 8, 8], extra_opsets=[("com.cinfer", 1)]),
              f"{name}.onnx")


fused_node("ok_fused", activation="Clip", act_alpha=-1.0, act_beta=1.0)
fused_node("bad_act", activation="Tanh")
fused_node("bad_attr", activation="Relu", ceil_mode=1)
fused_node("bad_clip", activation="Clip", act_alpha=2.0, act_beta=1.0)
fused_node("bad_leaky", activation="LeakyRelu")
fused_node("bad_extra", activation="Relu", act_alpha=1.0)
fused_node("bad_type", activation="Relu", act_alpha=1)
