/* Growable arrays: the one place that doubles a buffer, so each array of the daemons is a
 * pointer, a count and a capacity, grown by one call. */
#ifndef MCS_VEC_H
#define MCS_VEC_H

#include <stddef.h>

/* Makes room for one more element in v, an array of *cap elements of elem bytes of which n
 * are used: when n < *cap returns v unchanged; else reallocs to twice *cap (first when *cap is
 * 0), updates *cap and returns the new array (the caller stores it: v is then freed). Returns
 * NULL when out of memory or the size would overflow: v and *cap are untouched, v still
 * belongs to the caller. */
void *vec_grow(void *v, size_t *cap, size_t n, size_t elem, size_t first) __attribute__((warn_unused_result));

#endif
