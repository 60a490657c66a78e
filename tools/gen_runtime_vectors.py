#!/usr/bin/python3
"""Generates tests/runtime/vectors/: small ONNX models that exercise the
loader's checks (external data confinement, graph structure, limits).
Deterministic: run with /usr/bin/python3 (Debian's python3-onnx 1.12)."""
import os
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'runtime', 'vectors')


def save(m, rel):
    p = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, 'wb') as f:
        f.write(m.SerializeToString())


def matmul_model(w_tensor):
    x = helper.make_tensor_value_info('x', TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info('y', TensorProto.FLOAT, [2, 4])
    n = helper.make_node('MatMul', ['x', 'W'], ['y'])
    g = helper.make_graph([n], 'ext', [x], [y], [w_tensor])
    return helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)], producer_name='gen_runtime_vectors')


def ext_tensor(location, offset=None, length=None):
    t = TensorProto()
    t.name = 'W'
    t.data_type = TensorProto.FLOAT
    t.dims.extend([3, 4])
    t.data_location = TensorProto.EXTERNAL
    for k, v in (('location', location), ('offset', offset), ('length', length)):
        if v is not None:
            e = t.external_data.add()
            e.key = k
            e.value = str(v)
    return t


def main():
    rng = np.random.default_rng(7)
    w = rng.standard_normal((3, 4)).astype(np.float32)
    x = rng.standard_normal((2, 3)).astype(np.float32)
    os.makedirs(os.path.join(OUT, 'ext_ok', 'data'), exist_ok=True)
    with open(os.path.join(OUT, 'ext_ok', 'data', 'weights.bin'), 'wb') as f:
        f.write(b'\0' * 16 + w.tobytes() + b'\0' * 8)
    save(matmul_model(ext_tensor('data/weights.bin', 16, 48)), 'ext_ok/model.onnx')
    with open(os.path.join(OUT, 'ext_ok', 'input_0.pb'), 'wb') as f:
        f.write(numpy_helper.from_array(x, 'x').SerializeToString())
    with open(os.path.join(OUT, 'ext_ok', 'output_0.pb'), 'wb') as f:
        f.write(numpy_helper.from_array(x @ w, 'y').SerializeToString())
    save(matmul_model(ext_tensor('../ext_ok/data/weights.bin', 16, 48)), 'ext_dotdot/model.onnx')
    save(matmul_model(ext_tensor('/etc/passwd', 0, 48)), 'ext_abs/model.onnx')
    save(matmul_model(ext_tensor('data/weights.bin', 40, 48)), 'ext_ok/past_end.onnx')
    save(matmul_model(ext_tensor('data/weights.bin', 16, 44)), 'ext_ok/bad_length.onnx')
    save(matmul_model(ext_tensor('data/missing.bin', 0, 48)), 'ext_ok/missing.onnx')

    v = lambda n, s: helper.make_tensor_value_info(n, TensorProto.FLOAT, s)
    # a cycle: a -> b -> a
    g = helper.make_graph([helper.make_node('Relu', ['b'], ['a']), helper.make_node('Relu', ['a'], ['b'])],
                          'cycle', [v('x', [1])], [v('b', [1])])
    save(helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)]), 'cycle.onnx')
    g = helper.make_graph([helper.make_node('Relu', ['nope'], ['y'])], 'undef', [v('x', [1])], [v('y', [1])])
    save(helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)]), 'undefined_input.onnx')
    g = helper.make_graph([helper.make_node('Relu', ['x'], ['y']), helper.make_node('Relu', ['x'], ['y'])],
                          'dup', [v('x', [1])], [v('y', [1])])
    save(helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)]), 'duplicate_output.onnx')
    g = helper.make_graph([helper.make_node('FancyOp', ['x'], ['y'], domain='com.example')],
                          'unsup', [v('x', [1])], [v('y', [1])])
    save(helper.make_model(g, opset_imports=[helper.make_opsetid('', 13), helper.make_opsetid('com.example', 1)]),
         'unsupported_op.onnx')
    big = TensorProto()
    big.name = 'W'
    big.data_type = TensorProto.FLOAT
    big.dims.extend([1 << 20, 1 << 20])
    g = helper.make_graph([helper.make_node('Add', ['x', 'W'], ['y'])], 'big', [v('x', [1])], [v('y', [1])], [big])
    save(helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)]), 'huge_initializer.onnx')
    short = numpy_helper.from_array(np.zeros((4,), np.float32), 'W')
    short.raw_data = short.raw_data[:12]
    g = helper.make_graph([helper.make_node('Add', ['x', 'W'], ['y'])], 'short', [v('x', [4])], [v('y', [4])], [short])
    save(helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)]), 'short_raw_data.onnx')
    # out-of-range Gather index is caught at run time, not by reading memory
    idx = numpy_helper.from_array(np.array([0, 5], np.int64), 'I')
    g = helper.make_graph([helper.make_node('Gather', ['x', 'I'], ['y'])], 'gather', [v('x', [3])], [v('y', [2])], [idx])
    save(helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)]), 'gather_oob.onnx')

    # omitted outputs still get somewhere to write; a node without outputs is malformed
    g = helper.make_graph([helper.make_node('Relu', ['x'], ['']), helper.make_node('TopK', ['x', 'K'], ['y', ''])],
                          'omitted', [v('x', [4])], [v('y', [2])], [numpy_helper.from_array(np.array([2], np.int64), 'K')])
    save(helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)]), 'omitted_outputs.onnx')
    g = helper.make_graph([helper.make_node('TopK', ['x', 'K'], ['y'])], 'topk1', [v('x', [4])], [v('y', [2])],
                          [numpy_helper.from_array(np.array([2], np.int64), 'K')])
    save(helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)]), 'topk_one_output.onnx')
    g = helper.make_graph([helper.make_node('Relu', ['x'], []), helper.make_node('Relu', ['x'], ['y'])],
                          'noout', [v('x', [4])], [v('y', [4])])
    save(helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)]), 'node_without_outputs.onnx')
    bad_runs(v)


def bad_runs(v):
    """Valid protobuf, hostile values: each must fail at run time with the
    listed code, never read out of bounds. Inputs are initializers."""
    os.makedirs(os.path.join(OUT, 'bad_run'), exist_ok=True)
    f32 = lambda n, a: numpy_helper.from_array(np.asarray(a, np.float32), n)
    i64 = lambda n, a: numpy_helper.from_array(np.asarray(a, np.int64), n)
    cases = [
        ('reshape_count', 'Reshape', [f32('a', np.zeros((2, 3))), i64('s', [4, 2])], {}, 'malformed'),
        ('reshape_two_infer', 'Reshape', [f32('a', np.zeros((2, 3))), i64('s', [-1, -1])], {}, 'malformed'),
        ('concat_dims', 'Concat', [f32('a', np.zeros((2, 3))), f32('b', np.zeros((3, 3)))], {'axis': 1}, 'malformed'),
        ('concat_axis', 'Concat', [f32('a', np.zeros((2, 3)))], {'axis': 5}, 'malformed'),
        ('add_broadcast', 'Add', [f32('a', np.zeros((2, 3))), f32('b', np.zeros((4,)))], {}, 'malformed'),
        ('matmul_inner', 'MatMul', [f32('a', np.zeros((2, 3))), f32('b', np.zeros((4, 2)))], {}, 'malformed'),
        ('conv_channels', 'Conv', [f32('a', np.zeros((1, 3, 5, 5))), f32('w', np.zeros((2, 2, 3, 3)))], {}, 'malformed'),
        ('conv_stride0', 'Conv', [f32('a', np.zeros((1, 1, 5, 5))), f32('w', np.zeros((1, 1, 3, 3)))], {'strides': [0, 1]}, 'malformed'),
        ('gathernd_oob', 'GatherND', [f32('a', np.zeros((2, 2))), i64('i', [[0, 7]])], {}, 'malformed'),
        ('scatternd_oob', 'ScatterND', [f32('a', np.zeros((4,))), i64('i', [[9]]), f32('u', [1])], {}, 'malformed'),
        ('gather_elements_oob', 'GatherElements', [f32('a', np.zeros((2, 2))), i64('i', [[0, 3], [1, 0]])], {'axis': 1}, 'malformed'),
        ('onehot_depth_nan', 'OneHot', [i64('i', [1]), f32('d', [float('nan')]), f32('v', [0, 1])], {}, 'malformed'),
        ('expand_bad', 'Expand', [f32('a', np.zeros((3,))), i64('s', [2, 4])], {}, 'malformed'),
        ('tile_huge', 'Tile', [f32('a', np.zeros((2, 2))), i64('r', [1 << 30, 1 << 30])], {}, 'limit'),
        ('constantofshape_huge', 'ConstantOfShape', [i64('s', [1 << 20, 1 << 20])], {}, 'limit'),
        ('range_huge', 'Range', [f32('s', 0), f32('l', 1e12), f32('d', 1e-3)], {}, 'malformed'),
        ('pad_negative', 'Pad', [f32('a', np.zeros((2, 2))), i64('p', [0, -5, 0, 0])], {}, 'malformed'),
        ('slice_step0', 'Slice', [f32('a', np.zeros((4,))), i64('s', [0]), i64('e', [4]), i64('x', [0]), i64('t', [0])], {}, 'malformed'),
        ('split_sum', 'Split', [f32('a', np.zeros((4,))), i64('s', [1, 1])], {}, 'malformed'),
        ('topk_k', 'TopK', [f32('a', np.zeros((4,))), i64('k', [9])], {}, 'malformed'),
        ('resize_nan_scale', 'Resize', [f32('a', np.zeros((1, 1, 2, 2))), f32('r', []), f32('s', [1, 1, float('nan'), 2])], {}, 'malformed'),
        ('maxunpool_oob', 'MaxUnpool', [f32('a', np.zeros((1, 1, 2, 2))), i64('i', [[[[0, 1], [2, 99]]]])], {'kernel_shape': [2, 2], 'strides': [2, 2]}, 'malformed'),
        ('nms_shapes', 'NonMaxSuppression', [f32('b', np.zeros((1, 3, 4))), f32('s', np.zeros((1, 1, 2)))], {}, 'malformed'),
        ('einsum_bad', 'Einsum', [f32('a', np.zeros((2, 3)))], {'equation': 'ijk->i'}, 'malformed'),
    ]
    names = []
    for name, op, inits, attrs, code in cases:
        n_out = 2 if op == 'TopK' else 1
        outs = ['y%d' % i for i in range(n_out)]
        node = helper.make_node(op, [t.name for t in inits], outs, **attrs)
        g = helper.make_graph([node], name, [], [helper.make_tensor_value_info(o, TensorProto.UNDEFINED, None) for o in outs], inits)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 13 if op not in ('Resize',) else 13)])
        save(m, 'bad_run/%s.onnx' % name)
        names.append('%s %s' % (name, code))
    with open(os.path.join(OUT, 'bad_run', 'expected.txt'), 'w') as f:
        f.write('# model (bad_run/NAME.onnx) and the cinfer_code its run must fail with\n')
        f.write('\n'.join(names) + '\n')


if __name__ == '__main__':
    main()
