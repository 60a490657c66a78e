/*
 * The operator registry: one const table sorted by (domain, name), looked
 * up with bsearch. ops_list.h is the single list of descriptors; each
 * family file under ops/ defines its ci_op_<Name> with CI_OP_DEF.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/rt.h"
#include "runtime/ops/ops.h"

static const struct ci_op *const table[] = {
#define X(sym) &ci_op_##sym,
	CI_OPS_LIST(X)
#undef X
};

static int
cmp(const void *key, const void *elem)
{
	const struct ci_op *k = key, *o = *(const struct ci_op *const *)elem;
	int c = strcmp(k->domain, o->domain);	/* public */

	return c ? c : strcmp(k->name, o->name);	/* public */
}

const struct ci_op *
ci_op_find(const char *domain, const char *op_type, int opset)
{
	struct ci_op key = { 0 };
	const struct ci_op *const *hit;

	if (strcmp(domain, "ai.onnx") == 0)	/* public */
		domain = "";
	key.domain = domain;
	key.name = op_type;
	hit = bsearch(&key, table, CI_ARRAY_LEN(table), sizeof(table[0]), cmp);
	if (hit == NULL || opset < (*hit)->min_opset)
		return NULL;
	return *hit;
}

const struct ci_op_arity *
ci_op_arity_find(const char *name, int opset)
{
	size_t lo = 0, hi = ci_op_arity_count;
	const struct ci_op_arity *best = NULL;

	/* first entry for name (the table is sorted by name, then since) */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(ci_op_arity_table[mid].name, name) < 0)	/* public */
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < ci_op_arity_count && strcmp(ci_op_arity_table[lo].name, name) == 0; lo++)	/* public */
		if (ci_op_arity_table[lo].since <= opset)
			best = &ci_op_arity_table[lo];
	return best;
}

const struct ci_op *
ci_op_at(size_t i)
{
	return i < CI_ARRAY_LEN(table) ? table[i] : NULL;
}
