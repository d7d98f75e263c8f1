/* secmem.h: libraries' heap that is wiped when freed.
 *
 * libcurl builds each request (headers with the session token and the
 * signature) in buffers of its own, OpenSSL encrypts from copies, and
 * cJSON copies the strings it parses (credentials answers): all of them
 * free without wiping. secmem_wipe_library_heaps() gives the three an
 * allocator whose free and realloc wipe the old block first, so no copy of
 * a secret outlives its use in the heap.
 *
 * Call it first in main, before anything allocates through these
 * libraries (before curl_global_init). Returns 0, or -1 when one of them
 * refused (too late: it had allocated already). Never prints.
 */
#ifndef ORA_SECMEM_H
#define ORA_SECMEM_H

#include <stddef.h>

int secmem_wipe_library_heaps(void);

/* free() that wipes the whole block first (malloc_usable_size). */
void secmem_free(void *p);
/* realloc() that never leaves an unwiped old block behind. */
void *secmem_realloc(void *p, size_t n);

#endif
