#ifndef BERTH_RUNTIME_MEMFD_SEAL_H
#define BERTH_RUNTIME_MEMFD_SEAL_H

/*
 * Makes the contents of memfd FD immutable for good: shrink, grow and write
 * seals, then the seal seal. Returns 0, or -1 with errno set.
 */
int memfd_seal_contents(int fd);

/* Whether FD carries the seals memfd_seal_contents adds. */
int memfd_is_sealed(int fd);

#endif
