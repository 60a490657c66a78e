/*
 * pass_quant.c's fusion counters (process-wide, for tests and benchmarks:
 * they show that a rewrite happened).
 */
#ifndef CI_RUNTIME_PASS_QUANT_H
#define CI_RUNTIME_PASS_QUANT_H

#include <stddef.h>

/* DynQMatMul and QDQMatMul nodes made, DequantizeLinear nodes folded. */
void ci_pass_quant_counts(size_t *dynq, size_t *qdq, size_t *folded);

#endif
