/* zlib's gzip header checks, for ISA-L's inflate (gzip-header.h). */
#include "image/gzip-header.h"

/* RFC 1952's FLG bits. */
#define FHCRC 0x02
#define FEXTRA 0x04
#define FNAME 0x08
#define FCOMMENT 0x10
#define FRESERVED 0xe0
#define FIXED_LEN 10

enum { S_FIXED, S_XLEN, S_EXTRA, S_NAME, S_COMMENT, S_HCRC, S_DONE };

void gzip_header_scan_start(struct gzip_header_scan *h)
{
    *h = (struct gzip_header_scan){.stage = S_FIXED, .crc = 0xffffffffu};
}

int gzip_header_scan_done(const struct gzip_header_scan *h)
{
    return h->stage == S_DONE;
}

static uint32_t crc32_byte(uint32_t crc, unsigned char c)
{
    crc ^= c;
    for (int k = 0; k < 8; k++)
        crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    return crc;
}

/* The stage after STAGE's part of the header, given the flags. */
static int next_stage(const struct gzip_header_scan *h, int stage)
{
    if (stage < S_XLEN && (h->flags & FEXTRA))
        return S_XLEN;
    if (stage < S_NAME && (h->flags & FNAME))
        return S_NAME;
    if (stage < S_COMMENT && (h->flags & FCOMMENT))
        return S_COMMENT;
    if (stage < S_HCRC && (h->flags & FHCRC))
        return S_HCRC;
    return S_DONE;
}

static void advance(struct gzip_header_scan *h, int stage)
{
    h->stage = next_stage(h, stage);
    h->n = 0;
}

const char *gzip_header_scan(struct gzip_header_scan *h, const unsigned char *p, size_t len,
                             size_t *ret_used)
{
    size_t i = 0;
    for (; i < len && h->stage != S_DONE; i++) {
        unsigned char c = p[i];
        if (h->stage != S_HCRC)
            h->crc = crc32_byte(h->crc, c);
        h->n++;
        switch (h->stage) {
        case S_FIXED:
            if ((h->n == 1 && c != 0x1f) || (h->n == 2 && c != 0x8b))
                return "invalid header (or data after the last member)";
            if (h->n == 3 && c != 8)
                return "unknown compression method";
            if (h->n == 4) {
                if (c & FRESERVED)
                    return "reserved header flags set";
                h->flags = c;
            }
            if (h->n == FIXED_LEN)
                advance(h, S_FIXED);
            break;
        case S_XLEN:
            h->xlen |= (size_t)c << (8 * (h->n - 1));
            if (h->n == 2) {
                h->stage = S_EXTRA;
                h->n = 0;
                if (h->xlen == 0)
                    advance(h, S_EXTRA);
            }
            break;
        case S_EXTRA:
            if (h->n == h->xlen)
                advance(h, S_EXTRA);
            break;
        case S_NAME:
        case S_COMMENT:
            if (c == 0)
                advance(h, h->stage);
            break;
        case S_HCRC:
            h->hcrc |= (unsigned)c << (8 * (h->n - 1));
            if (h->n == 2) {
                if (h->hcrc != (~h->crc & 0xffffu))
                    return "header crc mismatch";
                h->stage = S_DONE;
            }
            break;
        default:
            break;
        }
    }
    *ret_used = i;
    return NULL;
}
