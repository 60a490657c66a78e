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


if __name__ == '__main__':
    main()
