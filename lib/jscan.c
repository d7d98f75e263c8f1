/* jscan.c: see jscan.h. Byte-class tables drive the skipping loops. */
#include "jscan.h"

#include <math.h>
#include <stdlib.h>
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

/* Compact JSON has no whitespace: one test for the common case. */
static inline const uint8_t *ws(const uint8_t *p, const uint8_t *e)
{
    while (p < e && *p <= ' ' && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
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
 * (cap bytes), up to its first NUL (\u0000): cJSON ends a name there, so
 * what follows neither counts nor needs to fit. Returns the length, or -1
 * when it does not fit or holds a bad escape before a NUL. A non-ASCII \u
 * escape decodes to 0xff, which matches nothing that we look for. */
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
        if (c == 0)
            break;
        if (k >= cap)
            return -1;
        out[k++] = c;
    }
    return (int)k;
}

/* ---- the object walk both scans share ---------------------------------- */

/* p at a text that must be one object: just after its '{' and the
 * whitespace that follows, or NULL. */
static inline const uint8_t *obj_open(const uint8_t *p, const uint8_t *e)
{
    p = ws(p, e);
    if (p >= e || *p != '{')
        return NULL;
    return ws(p + 1, e);
}

/* p just after a member's name: at its value (past the ':' and the
 * whitespace around it), or NULL. */
static inline const uint8_t *obj_colon(const uint8_t *p, const uint8_t *e)
{
    p = ws(p, e);
    if (p >= e || *p != ':')
        return NULL;
    return ws(p + 1, e);
}

/* *pp just after a member's value: 1 with *pp after the closing '}', 0
 * with *pp at the next member (past the ',' and whitespace), -1 when
 * neither follows. */
static inline int obj_next(const uint8_t **pp, const uint8_t *e)
{
    const uint8_t *p = ws(*pp, e);
    if (p >= e)
        return -1;
    if (*p == '}') {
        *pp = p + 1;
        return 1;
    }
    if (*p != ',')
        return -1;
    *pp = ws(p + 1, e);
    return 0;
}

/* ---- the skipping scan -------------------------------------------------- */

/* p at a member's name: at its value, or NULL. *ks and *kn give the raw
 * name (between the quotes); *esc is set when it holds an escape. */
static inline const uint8_t *skip_name(const uint8_t *p, const uint8_t *e, const uint8_t **ks, size_t *kn,
                                       int *esc)
{
    if (p >= e || *p != '"')
        return NULL;
    *ks = p + 1;
    *esc = 0;
    if (!(p = skip_str(p + 1, e, esc)))
        return NULL;
    *kn = (size_t)(p - 1 - *ks);
    return obj_colon(p, e);
}

/* p at a value, which is not checked: just after it, or NULL when it is
 * cut off or empty. */
static inline const uint8_t *skip_value(const uint8_t *p, const uint8_t *e)
{
    const uint8_t *vs = p;
    int esc = 0;
    if (p >= e)
        return NULL;
    switch (*p) {
    case '"':
        return skip_str(p + 1, e, &esc);
    case '{':
    case '[':
        return skip_nested(p, e);
    default:
        while (p < e && scalar_ok[*p])
            p++;
        return p == vs ? NULL : p;
    }
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
    if (!(p = obj_open(p, e)))
        return -1;
    int rc = 0;
    if (p < e && *p == '}')
        p++;
    else
        while (rc == 0) {
            const uint8_t *ks, *vs;
            size_t kn;
            int esc;
            if (!(vs = skip_name(p, e, &ks, &kn, &esc)) || !(p = skip_value(vs, e)))
                return -1;
            const uint8_t *key = ks;
            uint8_t dec[64];
            if (esc) {
                int dn = unescape(ks, kn, dec, sizeof dec);
                key = dn < 0 ? NULL : dec;   /* too long for any of ours, or bad */
                kn = dn < 0 ? 0 : (size_t)dn;
            }
            if (key)
                for (size_t i = 0; i < nkeys; i++)
                    if (!vals[i].p && klen[i] == kn && memcmp(keys[i], key, kn) == 0) {
                        vals[i].p = vs;
                        vals[i].n = (size_t)(p - vs);
                    }
            if ((rc = obj_next(&p, e)) < 0)
                return -1;
        }
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

/* ---- the validating scan ------------------------------------------------ */

/* The whole text is checked as JSON while the top-level members are handed
 * over. The grammar is RFC 8259's; strings are checked as cJSON checks them
 * (escapes, \u digits and surrogate pairs; other bytes as they come), so
 * that a text accepted here is one that cJSON, and so ora-actors, parses. */

static int hex4(const uint8_t *p, const uint8_t *e, unsigned *v)
{
    if (e - p < 4)
        return -1;
    unsigned x = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return -1;
        x = x << 4 | (unsigned)h;
    }
    *v = x;
    return 0;
}

/* p just after the opening quote: returns just after the closing one, or
 * NULL. *esc is set when the string holds an escape. */
static inline const uint8_t *v_string(const uint8_t *p, const uint8_t *e, int *esc)
{
    for (;;) {
#ifdef __SSE2__
        /* most strings are names and short values: one block finds the end */
        const __m128i vq = _mm_set1_epi8('"'), vb = _mm_set1_epi8('\\');
        while (e - p >= 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
            unsigned m = (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, vq), _mm_cmpeq_epi8(x, vb)));
            if (m) {
                p += __builtin_ctz(m);
                goto hit;
            }
            p += 16;
        }
#endif
        while (p < e && !str_cls[*p])
            p++;
        if (p >= e)
            return NULL;
#ifdef __SSE2__
    hit:
#endif
        if (*p == '"')
            return p + 1;
        *esc = 1;
        if (++p >= e)
            return NULL;
        switch (*p++) {
        case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
            break;
        case 'u': {
            unsigned u, lo;
            if (hex4(p, e, &u) < 0)
                return NULL;
            p += 4;
            if (u >= 0xDC00 && u <= 0xDFFF)
                return NULL;            /* a low surrogate alone */
            if (u >= 0xD800 && u <= 0xDBFF) {
                if (e - p < 6 || p[0] != '\\' || p[1] != 'u' || hex4(p + 2, e, &lo) < 0 ||
                    lo < 0xDC00 || lo > 0xDFFF)
                    return NULL;        /* a high surrogate without its low half */
                p += 6;
            }
            break;
        }
        default:
            return NULL;
        }
    }
}

static int digit(uint8_t c) { return c >= '0' && c <= '9'; }

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?: just after it, or NULL.
 * At most 63 characters: cJSON reads no more of a number. */
static const uint8_t *v_number(const uint8_t *p, const uint8_t *e)
{
    const uint8_t *start = p;
    if (e - p > 64)
        e = p + 64;   /* the 64th character, if a digit, makes it too long */
    if (p < e && *p == '-')
        p++;
    if (p >= e || !digit(*p))
        return NULL;
    if (*p++ != '0')
        while (p < e && digit(*p))
            p++;
    if (p < e && *p == '.') {
        if (++p >= e || !digit(*p))
            return NULL;
        while (p < e && digit(*p))
            p++;
    }
    if (p < e && (*p == 'e' || *p == 'E')) {
        if (++p < e && (*p == '+' || *p == '-'))
            p++;
        if (p >= e || !digit(*p))
            return NULL;
        while (p < e && digit(*p))
            p++;
    }
    return p - start < 64 ? p : NULL;
}

static const uint8_t *v_literal(const uint8_t *p, const uint8_t *e, const char *lit, size_t n)
{
    return (size_t)(e - p) >= n && memcmp(p, lit, n) == 0 ? p + n : NULL;
}

/* p at '{' or '[', nested depth levels deep already: returns just after
 * its matching bracket, or NULL. One loop and a stack of bracket kinds, no
 * recursion: each token costs a few tests. */
static const uint8_t *v_nested(const uint8_t *p, const uint8_t *e, int depth)
{
    uint8_t obj[ORA_JSCAN_MAX_DEPTH];   /* 1: object, 0: array */
    int d = 0, esc = 0;
open:
    if (depth + d >= ORA_JSCAN_MAX_DEPTH)
        return NULL;
    obj[d++] = *p == '{';
    p = ws(p + 1, e);
    if (p >= e)
        return NULL;
    if (*p == (obj[d - 1] ? '}' : ']')) {
        p++;
        goto close;
    }
    if (!obj[d - 1])
        goto value;
key:
    if (p >= e || *p != '"' || !(p = v_string(p + 1, e, &esc)))
        return NULL;
    if (p < e && *p == ':') {   /* compact JSON: no whitespace around ':' */
        p++;
    } else {
        p = ws(p, e);
        if (p >= e || *p != ':')
            return NULL;
        p++;
    }
    if (p < e && *p <= ' ')
        p = ws(p, e);
value:
    if (p >= e)
        return NULL;
    switch (*p) {
    case '"': p = v_string(p + 1, e, &esc); break;
    case '{':
    case '[': goto open;
    case 't': p = v_literal(p, e, "true", 4); break;
    case 'f': p = v_literal(p, e, "false", 5); break;
    case 'n': p = v_literal(p, e, "null", 4); break;
    default: p = v_number(p, e);
    }
    if (!p)
        return NULL;
after:
    if (p < e && *p <= ' ')
        p = ws(p, e);
    if (p >= e)
        return NULL;
    if (*p == ',') {
        p++;
        if (p < e && *p <= ' ')
            p = ws(p, e);
        if (obj[d - 1])
            goto key;
        goto value;
    }
    if (*p != (obj[d - 1] ? '}' : ']'))
        return NULL;
    p++;
close:
    if (--d == 0)
        return p;
    goto after;
}

static const uint8_t *v_value(const uint8_t *p, const uint8_t *e, int depth)
{
    int esc = 0;
    if (p >= e)
        return NULL;
    switch (*p) {
    case '"': return v_string(p + 1, e, &esc);
    case '{':
    case '[': return v_nested(p, e, depth);
    case 't': return v_literal(p, e, "true", 4);
    case 'f': return v_literal(p, e, "false", 5);
    case 'n': return v_literal(p, e, "null", 4);
    default: return v_number(p, e);
    }
}

/* A member name as cJSON sees it: escapes decoded, cut at the first NUL.
 * Returns the length, or -1 when it does not fit in cap bytes. */
static int member_name(const uint8_t *s, size_t n, int esc, uint8_t *dec, size_t cap, const uint8_t **name)
{
    if (esc) {
        int dn = unescape(s, n, dec, cap);
        if (dn < 0)
            return -1;
        s = dec;
        n = (size_t)dn;
    }
    const uint8_t *z = memchr(s, 0, n);
    *name = s;
    return (int)(z ? (size_t)(z - s) : n);
}

int ora_jscan_valid(const uint8_t *p, size_t n, ora_jscan_fn fn, void *ctx)
{
    const uint8_t *e = p + n;
    if (!(p = obj_open(p, e)))
        return -1;
    int rc = 0;
    if (p < e && *p == '}')
        p++;
    else
        while (rc == 0) {
            int esc = 0;
            if (p >= e || *p != '"')
                return -1;
            const uint8_t *ks = p + 1;
            if (!(p = v_string(ks, e, &esc)))
                return -1;
            size_t kn = (size_t)(p - 1 - ks);
            if (!(p = obj_colon(p, e)))
                return -1;
            const uint8_t *vs = p;
            if (!(p = v_value(p, e, 1)))
                return -1;
            if (fn) {
                uint8_t dec[64];
                const uint8_t *name;
                int nl = member_name(ks, kn, esc, dec, sizeof dec, &name);
                ora_jspan v = {vs, (size_t)(p - vs)};
                int frc = fn(ctx, nl < 0 ? NULL : name, nl < 0 ? 0 : (size_t)nl, v);
                if (frc)
                    return frc;
            }
            if ((rc = obj_next(&p, e)) < 0)
                return -1;
        }
    return ws(p, e) == e ? 0 : -1;
}

int ora_jscan_find(ora_jspan obj, const char *key, ora_jspan *val)
{
    const uint8_t *p = obj.p, *e = obj.p + obj.n;
    size_t kl = strlen(key);
    val->p = NULL;
    val->n = 0;
    if (!p || !(p = obj_open(p, e)))
        return -1;
    if (p < e && *p == '}')
        return 0;
    for (;;) {
        const uint8_t *ks, *vs;
        size_t kn;
        int esc;
        if (!(vs = skip_name(p, e, &ks, &kn, &esc)) || vs >= e)
            return -1;
        uint8_t dec[64];
        const uint8_t *name;
        int nl = kn >= kl ? member_name(ks, kn, esc, dec, sizeof dec, &name) : -1;
        int hit = nl >= 0 && (size_t)nl == kl && memcmp(name, key, kl) == 0;
        if (hit && (*vs == '{' || *vs == '[')) {
            /* the text is valid: the value's end need not be looked for */
            val->p = vs;
            val->n = (size_t)(e - vs);
            return 1;
        }
        if (!(p = skip_value(vs, e)))
            return -1;
        if (hit) {
            val->p = vs;
            val->n = (size_t)(p - vs);
            return 1;
        }
        int rc = obj_next(&p, e);
        if (rc)
            return rc > 0 ? 0 : -1;
    }
}

int ora_jscan_uint(ora_jspan v, uint64_t max, uint64_t *out)
{
    if (!v.p || v.n == 0)
        return -1;
    const uint8_t *p = v.p, *e = v.p + v.n;
    if (v_number(p, e) != e)
        return -1;
    /* the common case: digits only */
    uint64_t u = 0;
    const uint8_t *q = p;
    for (; q < e && digit(*q) && u <= UINT64_MAX / 10 - 1; q++)
        u = u * 10 + (unsigned)(*q - '0');
    if (q == e) {
        if (u > max)
            return 1;
        *out = u;
        return 0;
    }
    /* a sign, a fraction, an exponent or many digits: as cJSON reads it,
     * a double that must be whole and in range ("1.0", "1e3", "-0") */
    char buf[64];   /* v_number() allows 63 characters */
    memcpy(buf, p, v.n);
    buf[v.n] = 0;
    double d = strtod(buf, NULL);
    if (!(d >= 0) || d > (double)max || d != floor(d))
        return 1;
    *out = (uint64_t)d;
    return 0;
}
