/* Bridge-side offsets that keep exported counters monotonic: a chained hash table from series
 * key (the node's label) to its last raw values and offsets. */
#include "bridge_counters.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bridge_stats.h"

struct ctr_entry {
	struct ctr_entry *next;
	char *key;                                    /* malloc'd */
	unsigned long long instance;                  /* e.g. server id at the last update */
	unsigned long long last[BRIDGE_COUNTERS_MAX]; /* raw values at the last update */
	unsigned long long base[BRIDGE_COUNTERS_MAX]; /* added to raw values on export */
	unsigned long long round;                     /* round of the last update */
	unsigned long long worker;                    /* worker of the last update */
	time_t seen;                                  /* clock at the end of the last round it was updated */
};

struct bridge_counters {
	size_t n;                 /* counters per series */
	struct ctr_entry **slots; /* cap chains */
	size_t cap, size;
	unsigned long long round; /* current round, from 1 */
	unsigned long long worker;
};

#define CTR_MIN_CAP 64u

static size_t ctr_hash(const char *key)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 1099511628211ull;
	return (size_t)h;
}

struct bridge_counters *bridge_counters_new(size_t n)
{
	if (n == 0 || n > BRIDGE_COUNTERS_MAX)
		return NULL;
	struct bridge_counters *m = calloc(1, sizeof(*m));
	if (m == NULL || (m->slots = calloc(CTR_MIN_CAP, sizeof(*m->slots))) == NULL) {
		free(m);
		return NULL;
	}
	m->n = n;
	m->cap = CTR_MIN_CAP;
	return m;
}

void bridge_counters_free(struct bridge_counters *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->cap; i++) {
		for (struct ctr_entry *e = m->slots[i], *next; e != NULL; e = next) {
			next = e->next;
			free(e->key);
			free(e);
		}
	}
	free(m->slots);
	free(m);
}

size_t bridge_counters_size(const struct bridge_counters *m) { return m->size; }

void bridge_counters_begin(struct bridge_counters *m, unsigned long long worker)
{
	m->round++;
	m->worker = worker;
}

/* Doubles the table when it is fuller than 1 entry per slot; a failure only costs speed. */
static void ctr_grow(struct bridge_counters *m)
{
	if (m->size < m->cap)
		return;
	struct ctr_entry **slots = calloc(m->cap * 2, sizeof(*slots));
	if (slots == NULL)
		return;
	for (size_t i = 0; i < m->cap; i++) {
		for (struct ctr_entry *e = m->slots[i], *next; e != NULL; e = next) {
			next = e->next;
			size_t j = ctr_hash(e->key) & (m->cap * 2 - 1);
			e->next = slots[j];
			slots[j] = e;
		}
	}
	free(m->slots);
	m->slots = slots;
	m->cap *= 2;
}

static struct ctr_entry *ctr_insert(struct bridge_counters *m, const char *key, unsigned long long instance,
				    const unsigned long long *raw)
{
	ctr_grow(m);
	struct ctr_entry *e = calloc(1, sizeof(*e));
	if (e == NULL || (e->key = strdup(key)) == NULL) {
		free(e);
		return NULL;
	}
	e->instance = instance;
	e->worker = m->worker;
	memcpy(e->last, raw, m->n * sizeof(*raw));
	size_t i = ctr_hash(key) & (m->cap - 1);
	e->next = m->slots[i];
	m->slots[i] = e;
	m->size++;
	return e;
}

int bridge_counters_update(struct bridge_counters *m, const char *key, unsigned long long instance,
			   const unsigned long long *raw, unsigned long long *out)
{
	struct ctr_entry *e = m->slots[ctr_hash(key) & (m->cap - 1)];
	while (e != NULL && strcmp(e->key, key) != 0)
		e = e->next;
	if (e != NULL && e->round == m->round) {
		for (size_t i = 0; i < m->n; i++)
			out[i] = e->base[i] + e->last[i];
		return 1;
	}
	if (e == NULL) {
		if ((e = ctr_insert(m, key, instance, raw)) == NULL) {
			memcpy(out, raw, m->n * sizeof(*raw));
			return -1;
		}
	}
	/* A new worker or a new server behind the same label: every counter restarted. */
	int restarted = e->worker != m->worker || e->instance != instance;
	for (size_t i = 0; i < m->n; i++) {
		if (restarted || raw[i] < e->last[i])
			e->base[i] += e->last[i];
		e->last[i] = raw[i];
		out[i] = e->base[i] + raw[i];
	}
	e->instance = instance;
	e->worker = m->worker;
	e->round = m->round;
	return 0;
}

void bridge_counters_end(struct bridge_counters *m, time_t now, unsigned long forget_s)
{
	for (size_t i = 0; i < m->cap; i++) {
		struct ctr_entry **link = &m->slots[i];
		while (*link != NULL) {
			struct ctr_entry *e = *link;
			if (e->round == m->round)
				e->seen = now;
			if (e->round == m->round || now - e->seen <= (time_t)forget_s) {
				link = &e->next;
				continue;
			}
			*link = e->next;
			free(e->key);
			free(e);
			m->size--;
		}
	}
}

unsigned long long bridge_counters_worker_id(long pid, long long start_s, unsigned long long previous)
{
	const unsigned long long mask = (1ull << 40) - 1;
	unsigned long long id = ((unsigned long long)pid << 40) | ((unsigned long long)start_s & mask);
	long long prev_start = (long long)(previous & mask);
	long long drift = prev_start - (long long)((unsigned long long)start_s & mask);
	if (previous != 0 && (previous >> 40) == (unsigned long long)pid && drift > -3 && drift < 3)
		return previous;
	return id;
}

int bridge_counters_apply(struct bridge_counters *fe, struct bridge_counters *be, struct bridge_snapshot *s,
			  unsigned long long worker, time_t now, unsigned long forget_s)
{
	int rc = 0;
	unsigned long long raw[BRIDGE_COUNTERS_MAX], out[BRIDGE_COUNTERS_MAX];
	bridge_counters_begin(fe, worker);
	bridge_counters_begin(be, worker);
	if (s->fe_found) {
		/* A table of fewer counters leaves the later ones raw. */
		raw[0] = s->fe_stot, raw[1] = s->fe_ssl_fail, raw[2] = s->fe_dcon, raw[3] = s->bw_throttled;
		memcpy(out, raw, 4 * sizeof(*raw));
		rc |= bridge_counters_update(fe, "FRONTEND", 0, raw, out) == -1;
		s->fe_stot = out[0], s->fe_ssl_fail = out[1], s->fe_dcon = out[2], s->bw_throttled = out[3];
	}
	for (size_t i = 0; i < s->n_nodes; i++) {
		struct bridge_node *n = &s->nodes[i];
		if (n->skip)
			continue;
		raw[0] = n->chkfail, raw[1] = n->stot, raw[2] = n->econ, raw[3] = n->chkdown;
		rc |= bridge_counters_update(be, n->label, n->sid, raw, out) == -1;
		n->chkfail = out[0], n->stot = out[1], n->econ = out[2], n->chkdown = out[3];
	}
	bridge_counters_end(fe, now, forget_s);
	bridge_counters_end(be, now, forget_s);
	return rc ? -1 : 0;
}
