# For the lead: rename to tests/runtime/cli_run.sh once src/cli/main.c
# dispatches `run` and `inspect` to ci_cmd_run / ci_cmd_inspect.
# Runs `cinfer run` on a conformance model and the PaddleOCR classifier.
set -euo pipefail
: "${CINFER_BIN:?}" "${CINFER_SRC:?}"
node=/usr/share/libonnx-testdata/data/node
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
c=$node/test_conv_with_strides_padding
"$CINFER_BIN/cinfer" run "$c/model.onnx" --input "x=$c/test_data_set_0/input_0.pb" \
  --input "W=$c/test_data_set_0/input_1.pb" --output-dir "$tmp" | tee "$tmp/log"
grep -q '^output 0 y float \[1,1,4,3\]' "$tmp/log"
test -s "$tmp/output_0.pb"
"$CINFER_BIN/cinfer" inspect "$c/model.onnx" | grep -q '^op Conv x1 supported'
if "$CINFER_BIN/cinfer" inspect /usr/share/libonnx-testdata/data/simple/test_strnorm_model_monday_empty_output/model.onnx; then
  echo "inspect should report the unsupported StringNormalizer" >&2; exit 1
fi
if "$CINFER_BIN/cinfer" run "$c/model.onnx" --input "$c/test_data_set_0/input_0.pb"; then
  echo "run with a missing input must fail" >&2; exit 1
fi
echo ok
