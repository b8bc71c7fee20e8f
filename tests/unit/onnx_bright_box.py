#!/usr/bin/python3
"""Writes a small ONNX plate detector for the tests: it boxes the bright pixels of the input.

    onnx_bright_box.py OUT.onnx [--layout v5|v8]

The input is what a YOLO-style detector takes (1x3x640x640 RGB, 0..1). The model greys the
image, keeps the pixels brighter than 0.85 (a white plate in a darker scene), and outputs one
box around them, (cx, cy, w, h, score) in input pixels, score 1 when there are such pixels
and 0 when there are none. `v5` lays the output out as rows (1 x 1 x 5), `v8` as YOLOv8 does,
transposed and with more anchors (1 x 5 x 8; the others score 0). Operators built only from
what OpenCV 4.6's ONNX importer reads. Needs Debian's python3-onnx.
"""
import argparse

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

SIZE = 640
THRESHOLD = 0.85


def constant(name, values, dtype=np.float32):
    return numpy_helper.from_array(np.asarray(values, dtype=dtype), name)


def build(layout):
    xs = np.tile(np.arange(SIZE, dtype=np.float32), (SIZE, 1)).reshape(1, 1, SIZE, SIZE)
    ys = xs.transpose(0, 1, 3, 2).copy()
    initializers = [
        constant("grey_weights", np.full((1, 3, 1, 1), 1.0 / 3)),
        constant("threshold", [THRESHOLD]),
        constant("steep", [50.0]),
        constant("one", [1.0]),
        constant("half", [0.5]),
        constant("size", [float(SIZE)]),
        constant("xs", xs),
        constant("ys", ys),
        constant("xs_flipped", SIZE - xs),
        constant("ys_flipped", SIZE - ys),
    ]
    nodes = [
        helper.make_node("Conv", ["images", "grey_weights"], ["grey"], kernel_shape=[1, 1]),
        # mask = clamp(steep * (grey - threshold), 0, 1), from two ReLUs
        helper.make_node("Sub", ["grey", "threshold"], ["above"]),
        helper.make_node("Mul", ["above", "steep"], ["ramp"]),
        helper.make_node("Relu", ["ramp"], ["ramp_pos"]),
        helper.make_node("Sub", ["ramp", "one"], ["ramp_less"]),
        helper.make_node("Relu", ["ramp_less"], ["ramp_over"]),
        helper.make_node("Sub", ["ramp_pos", "ramp_over"], ["mask"]),
        helper.make_node("GlobalMaxPool", ["mask"], ["score"]),
    ]
    # The largest coordinate under the mask, and the smallest as size - max(size - coordinate)
    # (constant grids: OpenCV's importer does not broadcast between constants).
    for axis in ("xs", "ys"):
        nodes += [
            helper.make_node("Mul", ["mask", axis], [axis + "_masked"]),
            helper.make_node("GlobalMaxPool", [axis + "_masked"], [axis + "_max"]),
            helper.make_node("Mul", ["mask", axis + "_flipped"], [axis + "_flipped_masked"]),
            helper.make_node("GlobalMaxPool", [axis + "_flipped_masked"], [axis + "_flipped_max"]),
            helper.make_node("Sub", ["size", axis + "_flipped_max"], [axis + "_min"]),
            helper.make_node("Add", [axis + "_max", axis + "_min"], [axis + "_sum"]),
            helper.make_node("Mul", [axis + "_sum", "half"], [axis + "_centre"]),
            helper.make_node("Sub", [axis + "_max", axis + "_min"], [axis + "_extent"]),
        ]
    nodes.append(helper.make_node(
        "Concat", ["xs_centre", "ys_centre", "xs_extent", "ys_extent", "score"], ["box"], axis=1))
    if layout == "v5":
        initializers.append(constant("shape", [1, 1, 5], np.int64))
        nodes.append(helper.make_node("Reshape", ["box", "shape"], ["output"]))
        output_shape = [1, 1, 5]
    else:
        initializers.append(constant("shape", [1, 5, 1], np.int64))
        initializers.append(constant("empty_anchors", np.zeros((1, 5, 7))))
        nodes.append(helper.make_node("Reshape", ["box", "shape"], ["column"]))
        nodes.append(helper.make_node("Concat", ["column", "empty_anchors"], ["output"], axis=2))
        output_shape = [1, 5, 8]
    graph = helper.make_graph(
        nodes, "bright_box",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, SIZE, SIZE])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, output_shape)],
        initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 11)])
    onnx.checker.check_model(model)
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--layout", choices=("v5", "v8"), default="v5")
    args = parser.parse_args()
    onnx.save(build(args.layout), args.out)


if __name__ == "__main__":
    main()
