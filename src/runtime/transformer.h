/*
 * Transformer fusions (pass_transformer.c) and their fused ops: counters
 * that tests read to see that a rewrite happened.
 */
#ifndef CI_RUNTIME_TRANSFORMER_H
#define CI_RUNTIME_TRANSFORMER_H

#include <stddef.h>

struct ci_tf_stats {
	size_t gelu;		/* exact-erf GELU subgraphs made com.cinfer Gelu */
	size_t scaled_softmax;	/* Mul/Div by a scalar + Softmax made com.cinfer ScaledSoftmax */
	size_t hardswish;	/* x * Clip(x + 3, 0, 6) / 6 made com.cinfer HardSwish */
};
/* Totals since the process started (all models, all threads). */
void ci_tf_stats_get(struct ci_tf_stats *s);

#endif
