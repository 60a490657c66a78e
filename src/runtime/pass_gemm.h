/* Graph pass: GEMM fusions (pass_gemm.c). */
#ifndef CI_RUNTIME_PASS_GEMM_H
#define CI_RUNTIME_PASS_GEMM_H

#include <stddef.h>

/* MatMul + Add (+ activation) fusions made in this process (tests). */
size_t ci_pass_gemm_fused(void);

#endif
