/*
 * A gzip member's header (RFC 1952), parsed as it arrives in chunks of
 * any size, and checked as zlib (and Go's gzip reader) check it: magic,
 * method 8, reserved FLG bits clear, the header CRC (FHCRC) right. ISA-L
 * is then given only the deflate data and trailer: its own header parser
 * ignores the reserved bits and refuses a right FHCRC (libisal 2.30), and
 * the two decoders must accept exactly the same members (fuzz-diff-digest
 * checks it).
 */
#ifndef BERTH_GZIP_HEADER_H
#define BERTH_GZIP_HEADER_H

#include <stddef.h>
#include <stdint.h>

struct gzip_header_scan {
    int stage;
    size_t n; /* bytes seen in this stage */
    unsigned flags;
    size_t xlen;   /* FEXTRA's length */
    uint32_t crc;  /* of the header so far, not yet inverted */
    unsigned hcrc; /* the FHCRC field read so far */
};

/* Starts the scan of a new member's header. */
void gzip_header_scan_start(struct gzip_header_scan *h);

/* 1 once the whole header was seen. */
int gzip_header_scan_done(const struct gzip_header_scan *h);

/*
 * Scans the next LEN bytes of the member, up to the header's end: *RET_USED
 * is how many were header. Returns NULL, or why the header is refused.
 */
const char *gzip_header_scan(struct gzip_header_scan *h, const unsigned char *p, size_t len,
                             size_t *ret_used);

#endif
