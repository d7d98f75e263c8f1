/* jscan.c: see jscan.h. Byte-class tables drive the skipping loops. */
#include "jscan.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

enum { C_NONE = 0, C_QUOTE, C_BSLASH };

/* in a string: the quote and the backslash */
static const uint8_t str_cls[256] = {['"'] = C_QUOTE, ['\\'] = C_BSLASH};
/* characters of numbers and literals */
static const uint8_t scalar_ok[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, ['-'] = 1, ['+'] = 1, ['.'] = 1, ['e'] = 1, ['E'] = 1,
    ['t'] = 1, ['r'] = 1, ['u'] = 1, ['f'] = 1, ['a'] = 1, ['l'] = 1, ['s'] = 1, ['n'] = 1};

static const uint8_t *ws(const uint8_t *p, const uint8_t *e)
{
    while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

/* p just after an opening quote: returns just after the closing one, or
 * NULL. *esc is set when the string holds an escape. */
static const uint8_t *skip_str(const uint8_t *p, const uint8_t *e, int *esc)
{
    for (;;) {
        while (e - p >= 4) {
            if (str_cls[p[0]]) goto hit;
            if (str_cls[p[1]]) { p += 1; goto hit; }
            if (str_cls[p[2]]) { p += 2; goto hit; }
            if (str_cls[p[3]]) { p += 3; goto hit; }
            p += 4;
        }
        while (p < e && !str_cls[*p])
            p++;
        if (p >= e)
            return NULL;
    hit:
        if (*p == '"')
            return p + 1;
        *esc = 1;
        p += 2;            /* the backslash and the escaped byte */
        if (p > e)
            return NULL;
    }
}

/* The nesting state of skip_nested(). */
typedef struct nest {
    uint8_t kinds[ORA_JSCAN_MAX_DEPTH];   /* 1: object, 0: array */
    int d;
    int instr;                             /* inside a string */
} nest;

/* One byte c outside the fast path. Returns 1 when the outermost bracket
 * closed, -1 on a structure error, else 0. *skip is set after a backslash
 * in a string (the next byte is escaped). */
static inline int nest_byte(nest *s, uint8_t c, int *skip)
{
    if (s->instr) {
        if (c == '\\')
            *skip = 1;
        else if (c == '"')
            s->instr = 0;
        return 0;
    }
    switch (c) {
    case '"':
        s->instr = 1;
        return 0;
    case '{':
    case '[':
        if (s->d >= ORA_JSCAN_MAX_DEPTH)
            return -1;
        s->kinds[s->d++] = c == '{';
        return 0;
    case '}':
    case ']':
        if (s->kinds[--s->d] != (c == '}'))
            return -1;
        return s->d == 0;
    default:
        return 0;
    }
}

/* p at '{' or '[': returns just after its matching bracket, or NULL. */
static const uint8_t *skip_nested(const uint8_t *p, const uint8_t *e)
{
    nest s;
    s.d = 0;
    s.instr = 0;
    s.kinds[s.d++] = *p++ == '{';
#ifdef __SSE2__
    /* 16 bytes at a time: without backslashes in the block, the bytes inside
     * strings are the prefix XOR of the quote mask (carried across blocks),
     * and only the brackets outside strings need a look. */
    const __m128i vq = _mm_set1_epi8('"'), vb = _mm_set1_epi8('\\'), vo = _mm_set1_epi8('{'),
                  vc = _mm_set1_epi8('}'), va = _mm_set1_epi8('['), vz = _mm_set1_epi8(']');
    while (e - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        if (_mm_movemask_epi8(_mm_cmpeq_epi8(x, vb))) {
            const uint8_t *stop = p + 16;
            while (p < stop) {
                int skip = 0;
                int r = nest_byte(&s, *p++, &skip);
                if (r)
                    return r > 0 ? p : NULL;
                p += skip;
            }
            continue;
        }
        unsigned q = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, vq));
        unsigned m = q;
        m ^= m << 1;
        m ^= m << 2;
        m ^= m << 4;
        m ^= m << 8;
        if (s.instr)
            m = ~m;
        __m128i br = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, vo), _mm_cmpeq_epi8(x, vc)),
                                  _mm_or_si128(_mm_cmpeq_epi8(x, va), _mm_cmpeq_epi8(x, vz)));
        unsigned b = (unsigned)_mm_movemask_epi8(br) & ~m & 0xffffu;
        while (b) {
            int i = __builtin_ctz(b);
            b &= b - 1;
            uint8_t c = p[i];
            if (c == '{' || c == '[') {
                if (s.d >= ORA_JSCAN_MAX_DEPTH)
                    return NULL;
                s.kinds[s.d++] = c == '{';
            } else {
                if (s.kinds[--s.d] != (c == '}'))
                    return NULL;
                if (s.d == 0)
                    return p + i + 1;
            }
        }
        s.instr ^= __builtin_parity(q);
        p += 16;
    }
#endif
    while (p < e) {
        int skip = 0;
        int r = nest_byte(&s, *p++, &skip);
        if (r)
            return r > 0 ? p : NULL;
        p += skip;
    }
    return NULL;
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes the escapes of a key (raw bytes between the quotes) into out
 * (cap bytes). Returns the length, or -1 when it does not fit or holds a
 * bad escape. A non-ASCII \u escape decodes to 0xff, which matches nothing
 * that we look for. */
static int unescape(const uint8_t *s, size_t n, uint8_t *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c == '\\') {
            if (++i >= n)
                return -1;
            switch (s[i]) {
            case '"': c = '"'; break;
            case '\\': c = '\\'; break;
            case '/': c = '/'; break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'u': {
                if (i + 4 >= n)
                    return -1;
                int v = 0;
                for (int j = 1; j <= 4; j++) {
                    int h = hexval(s[i + j]);
                    if (h < 0)
                        return -1;
                    v = v << 4 | h;
                }
                i += 4;
                c = v < 0x80 ? (uint8_t)v : 0xff;
                break;
            }
            default:
                return -1;
            }
        }
        if (k >= cap)
            return -1;
        out[k++] = c;
    }
    return (int)k;
}

int ora_jscan(const uint8_t *p, size_t n, const char *const *keys, size_t nkeys, ora_jspan *vals)
{
    const uint8_t *e = p + n;
    size_t klen[8];
    if (nkeys > 8)
        return -1;
    for (size_t i = 0; i < nkeys; i++) {
        vals[i].p = NULL;
        vals[i].n = 0;
        klen[i] = strlen(keys[i]);
    }
    p = ws(p, e);
    if (p >= e || *p != '{')
        return -1;
    p = ws(p + 1, e);
    if (p < e && *p == '}') {
        p++;
        goto end;
    }
    for (;;) {
        if (p >= e || *p != '"')
            return -1;
        const uint8_t *ks = p + 1;
        int esc = 0;
        if (!(p = skip_str(ks, e, &esc)))
            return -1;
        const uint8_t *key = ks;
        size_t kn = (size_t)(p - 1 - ks);
        uint8_t dec[64];
        if (esc) {
            int dn = unescape(ks, kn, dec, sizeof dec);
            if (dn < 0) {
                key = NULL;   /* too long for any of ours, or bad */
                kn = 0;
            } else {
                key = dec;
                kn = (size_t)dn;
            }
        }
        p = ws(p, e);
        if (p >= e || *p != ':')
            return -1;
        p = ws(p + 1, e);
        if (p >= e)
            return -1;
        const uint8_t *vs = p;
        switch (*p) {
        case '"':
            esc = 0;
            p = skip_str(p + 1, e, &esc);
            break;
        case '{':
        case '[':
            p = skip_nested(p, e);
            break;
        default:
            while (p < e && scalar_ok[*p])
                p++;
            if (p == vs)
                return -1;
        }
        if (!p)
            return -1;
        if (key)
            for (size_t i = 0; i < nkeys; i++)
                if (!vals[i].p && klen[i] == kn && memcmp(keys[i], key, kn) == 0) {
                    vals[i].p = vs;
                    vals[i].n = (size_t)(p - vs);
                }
        p = ws(p, e);
        if (p >= e)
            return -1;
        if (*p == '}') {
            p++;
            break;
        }
        if (*p != ',')
            return -1;
        p = ws(p + 1, e);
    }
end:
    return ws(p, e) == e ? 0 : -1;
}

int ora_jscan_i64(ora_jspan v, int64_t *out)
{
    if (!v.p || v.n == 0)
        return -1;
    const uint8_t *p = v.p, *e = v.p + v.n;
    int neg = *p == '-';
    if (neg && ++p >= e)
        return -1;
    if (*p == '0' && e - p > 1)   /* no leading zeros */
        return -1;
    uint64_t u = 0;
    for (; p < e; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        unsigned d = (unsigned)(*p - '0');
        if (u > (UINT64_MAX - d) / 10)
            return -1;
        u = u * 10 + d;
    }
    if (neg ? u > (uint64_t)INT64_MAX + 1 : u > (uint64_t)INT64_MAX)
        return -1;
    *out = neg ? (int64_t)(0 - u) : (int64_t)u;
    return 0;
}

int ora_jscan_str(ora_jspan v, const uint8_t **s, size_t *n)
{
    if (!v.p || v.n < 2 || v.p[0] != '"')
        return -1;
    if (memchr(v.p + 1, '\\', v.n - 2))
        return 0;
    *s = v.p + 1;
    *n = v.n - 2;
    return 1;
}
