/*
 * The same runner over the two PyTorch-exported suites of libonnx-testdata
 * (pytorch-converted: nn modules; pytorch-operator: single operators),
 * which reach old opsets (6) and module patterns the node tests do not.
 */
#define CONFORMANCE_SUITES "pytorch-converted", "pytorch-operator"
#include "test_conformance.c"
