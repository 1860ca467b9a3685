/* arena — bump allocation in 1 MiB blocks (larger requests get their own). */
#include "util/arena.h"

#include <stdlib.h>
#include <string.h>

struct arena_block {
	arena_block *next;
	size_t cap;
	max_align_t data[];
};

#define ARENA_BLOCK (1u << 20)

void *arena_alloc(arena *a, size_t n)
{
	n = (n + 7) & ~(size_t)7;
	if (!a->head || a->cap - a->used < n) {
		size_t cap = n > ARENA_BLOCK / 4 ? n : ARENA_BLOCK;
		arena_block *b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->cap = cap;
		a->total += cap;
		if (a->head && cap != ARENA_BLOCK) {
			/* Big one-off: keep the current block for small allocations. */
			b->next = a->head->next;
			a->head->next = b;
			return b->data;
		}
		b->next = a->head;
		a->head = b;
		a->cap = cap;
		a->used = 0;
	}
	void *p = (char *)a->head->data + a->used;
	a->used += n;
	return p;
}

void *arena_dup(arena *a, const void *src, size_t n)
{
	void *p = arena_alloc(a, n);
	if (p && n)
		memcpy(p, src, n);
	return p;
}

void arena_free(arena *a)
{
	arena_block *b = a->head;
	while (b) {
		arena_block *next = b->next;
		free(b);
		b = next;
	}
	arena_init(a);
}
