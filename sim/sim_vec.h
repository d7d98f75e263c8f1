/* sim_vec.h: the growing arrays of ora-sim (model slots, snapshot pieces,
 * batches of frames): one way to make room, so that each array's owner
 * says only how much it needs.
 */
#ifndef ORA_SIM_VEC_H
#define ORA_SIM_VEC_H

#include <stddef.h>

/* Resizes the array *p to n elements of elem bytes (realloc). 0, or -1
 * (ENOMEM, or n * elem overflows): *p is then unchanged. */
int sim_vec_resize(void **p, size_t n, size_t elem);

/* Makes the array *p of *cap elements (elem bytes each) hold at least need:
 * when short, the capacity doubles (from first when it is 0) until it is
 * enough. 0, or -1 as sim_vec_resize() (*p and *cap unchanged). */
int sim_vec_reserve(void **p, size_t *cap, size_t need, size_t elem, size_t first);

#endif
