#!/usr/bin/python3
"""Writes views.onnx: Reshape/Identity/Flatten/Squeeze outputs are views
of their input's buffer. Relu's output is released once Reshape has run;
if its buffer went back to the arena while the views live, Exp's output
(same size) would take it and Add would read exp values through the view:
y would be 2*exp(relu(x)) instead of relu(x) + exp(relu(x))."""
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 6])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [24])
shape = numpy_helper.from_array(np.array([24], dtype=np.int64), "shape")
nodes = [
    helper.make_node("Relu", ["x"], ["a"]),
    helper.make_node("Reshape", ["a", "shape"], ["b"]),
    helper.make_node("Identity", ["b"], ["b2"]),
    helper.make_node("Exp", ["b2"], ["c"]),
    helper.make_node("Flatten", ["c"], ["c2"], axis=0),
    helper.make_node("Squeeze", ["c2"], ["c3"], axes=[0]),
    helper.make_node("Add", ["b2", "c3"], ["y"]),
]
g = helper.make_graph(nodes, "views", [x], [y], [shape])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 12)], producer_name="cinfer-tests")
onnx.checker.check_model(m)
onnx.save(m, "views.onnx")
