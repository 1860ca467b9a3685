/* arena — bump allocator for data that lives and dies together (a loaded
 * zone, a cache generation). Allocation is a pointer bump inside large
 * blocks obtained with malloc; nothing is freed individually; arena_free
 * releases everything at once. Not thread-safe: one owner at a time. */
#ifndef ANTIDOTE_UTIL_ARENA_H
#define ANTIDOTE_UTIL_ARENA_H

#include <stddef.h>

typedef struct arena_block arena_block;

typedef struct arena {
	arena_block *head; /* current block (newest first) */
	size_t used;       /* bytes used in head */
	size_t cap;        /* capacity of head */
	size_t total;      /* bytes requested from malloc in all */
} arena;

static inline void arena_init(arena *a) { a->head = NULL; a->used = a->cap = a->total = 0; }
/* Returns n bytes aligned to 8, or NULL when malloc fails. */
void *arena_alloc(arena *a, size_t n);
/* Copies n bytes into the arena. */
void *arena_dup(arena *a, const void *src, size_t n);
void arena_free(arena *a);

#endif
