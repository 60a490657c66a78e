/*
 * Graph pass: gemm fusions (see graph.h). Nothing rewritten yet.
 */
#include "runtime/graph.h"

int
ci_pass_gemm(struct ci_model_proto *p, struct ci_graph *g, struct ci_gindex *ix,
    struct cinfer_err *e)
{
	(void)p;
	(void)g;
	(void)ix;
	(void)e;
	return 0;
}
