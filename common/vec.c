/* Growable arrays (see vec.h). */
#include "vec.h"

#include <stdint.h>
#include <stdlib.h>

void *vec_grow(void *v, size_t *cap, size_t n, size_t elem, size_t first)
{
	if (n < *cap)
		return v;
	size_t grown = *cap ? *cap * 2 : (first ? first : 1);
	if (grown < *cap || elem == 0 || grown > SIZE_MAX / elem)
		return NULL;
	void *p = realloc(v, grown * elem);
	if (p != NULL)
		*cap = grown;
	return p;
}
