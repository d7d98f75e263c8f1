/* sim_vec.c: growing arrays (see sim_vec.h). */
#include "sim_vec.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

int sim_vec_resize(void **p, size_t n, size_t elem)
{
    if (elem && n > SIZE_MAX / elem) {
        errno = ENOMEM;
        return -1;
    }
    void *q = realloc(*p, n * elem);
    if (!q)
        return -1;
    *p = q;
    return 0;
}

int sim_vec_reserve(void **p, size_t *cap, size_t need, size_t elem, size_t first)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : first ? first : 1;
    while (nc < need) {
        if (nc > SIZE_MAX / 2) {
            errno = ENOMEM;
            return -1;
        }
        nc *= 2;
    }
    if (sim_vec_resize(p, nc, elem) < 0)
        return -1;
    *cap = nc;
    return 0;
}
