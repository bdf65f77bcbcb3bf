/* Envoy's substitution formatter: parser (SubstitutionFormatParser), the command operators we have
 * data for, START_TIME's DateFormatter (absl::FormatTime in UTC plus %s and %[1-9]f), response
 * flags, and the text / JSON writers. Compilation happens once on the main thread; rendering only
 * reads the compiled format, the record and a per-thread cache. */
#include "proxy/accesslog/format.h"
#include "proxy/accesslog/format_time.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "proxy/accesslog/flags.h"
#include "proxy/http/headers.h"

const char OR_ALOG_DEFAULT_FORMAT[] =
    "[%START_TIME%] \"%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%\" "
    "%RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% "
    "%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "
    "\"%REQ(X-FORWARDED-FOR)%\" \"%REQ(USER-AGENT)%\" \"%REQ(X-REQUEST-ID)%\" "
    "\"%REQ(:AUTHORITY)%\" \"%UPSTREAM_HOST%\"\n";

/* ---------------------------------------------------------------------------------------------
 * Output buffer */

void or_alog_buf_free(struct or_alog_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof(*b));
}

static bool buf_reserve(struct or_alog_buf *b, size_t n)
{
    if (b->oom)
        return false;
    if (b->cap - b->len >= n)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < n) {
        if (cap > SIZE_MAX / 2) {
            b->oom = true;
            return false;
        }
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (p == NULL) {
        b->oom = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

static void buf_put(struct or_alog_buf *b, const char *s, size_t n)
{
    if (n == 0 || !buf_reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void buf_putc(struct or_alog_buf *b, char c)
{
    if (!buf_reserve(b, 1))
        return;
    b->p[b->len++] = c;
}

static void buf_put_u64(struct or_alog_buf *b, uint64_t v)
{
    char tmp[OR_U64_DEC_MAX];
    buf_put(b, tmp, or_u64_dec(tmp, v));
}

static void buf_put_i64(struct or_alog_buf *b, int64_t v)
{
    char tmp[24];
    int n = snprintf(tmp, sizeof(tmp), "%lld", (long long)v);
    buf_put(b, tmp, (size_t)n);
}

/* JSON string body (no quotes): '"', '\\' and control characters escaped, other bytes as is. */
static void buf_put_json_escaped(struct or_alog_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        buf_put(b, s + run, i - run);
        run = i + 1;
        char e[6] = {'\\', 0, 0, 0, 0, 0};
        size_t el = 2;
        switch (c) {
        case '"':
            e[1] = '"';
            break;
        case '\\':
            e[1] = '\\';
            break;
        case '\b':
            e[1] = 'b';
            break;
        case '\f':
            e[1] = 'f';
            break;
        case '\n':
            e[1] = 'n';
            break;
        case '\r':
            e[1] = 'r';
            break;
        case '\t':
            e[1] = 't';
            break;
        default:
            e[1] = 'u';
            e[2] = '0';
            e[3] = '0';
            e[4] = hex[c >> 4];
            e[5] = hex[c & 15];
            el = 6;
        }
        buf_put(b, e, el);
    }
    buf_put(b, s + run, n - run);
}

/* ---------------------------------------------------------------------------------------------
 * Compiled form */

enum op_kind {
    OP_LIT,          /* s1 */
    OP_CONST,        /* s1, or unset when s1 is NULL (HOSTNAME, ENVIRONMENT) */
    OP_TIME,         /* START_TIME: times[time_idx] */
    OP_HDR,          /* sub: HDR_REQ/HDR_RESP/HDR_TRAILER; s1 main, s2 alternative (lower) */
    OP_HDR_BYTES,    /* sub: which map */
    OP_PROTOCOL,     /* sub: 0 downstream, 1 upstream */
    OP_CODE,         /* RESPONSE_CODE */
    OP_DETAILS,      /* RESPONSE_CODE_DETAILS */
    OP_TERM_DETAILS, /* CONNECTION_TERMINATION_DETAILS */
    OP_BYTES,        /* sub: 0 received, 1 sent */
    OP_DURATION,     /* sub: DUR_* */
    OP_FLAGS,        /* sub: 1 = long names */
    OP_ADDR,         /* sub: ADDR_*, mode: AM_* */
    OP_CLUSTER,      /* UPSTREAM_CLUSTER(_RAW) */
    OP_TFR,          /* UPSTREAM_TRANSPORT_FAILURE_REASON */
    OP_ATTEMPTS,     /* UPSTREAM_REQUEST_ATTEMPT_COUNT */
    OP_CONN_ID,      /* CONNECTION_ID */
    OP_ROUTE,        /* ROUTE_NAME */
    OP_SNI,          /* REQUESTED_SERVER_NAME */
    OP_STREAM_ID,    /* STREAM_ID: the request's x-request-id */
    OP_GRPC,         /* sub: GRPC_CAMEL/SNAKE/NUMBER */
    OP_LOCAL_BODY,   /* LOCAL_REPLY_BODY */
    OP_UNSET,        /* operators Envoy accepts but we have no data for (TLS, metadata, ...) */
    OP_ZERO,         /* byte meters we do not keep: Envoy's "Not implemented (0)" */
};

enum { HDR_REQ = 0, HDR_RESP = 1, HDR_TRAILER = 2 };
enum { DUR_TOTAL, DUR_REQUEST, DUR_REQUEST_TX, DUR_RESPONSE, DUR_RESPONSE_TX };
enum { ADDR_DOWN_LOCAL, ADDR_DOWN_REMOTE, ADDR_DOWN_DIRECT, ADDR_UP_LOCAL, ADDR_UP_REMOTE };
enum { AM_FULL, AM_NO_PORT, AM_PORT };
enum { GRPC_CAMEL, GRPC_SNAKE, GRPC_NUMBER };

struct op {
    uint8_t kind;
    uint8_t sub;
    uint8_t mode;
    unsigned time_idx;
    size_t max_len; /* SIZE_MAX: no truncation */
    char *s1;       /* owned */
    size_t n1;
    char *s2; /* owned */
    size_t n2;
};

enum { J_OBJ, J_LIST, J_OPS, J_NUM };

struct jnode {
    uint8_t kind;
    char *key; /* owned: "\"key\":" pre-escaped; NULL for list elements and the root */
    size_t keylen;
    char *rawkey;       /* owned: the key as configured (for sorting) */
    struct jnode *kids; /* owned array */
    unsigned nkids;
    unsigned op_first; /* J_OPS */
    unsigned op_n;
    char num[40];   /* J_NUM: protobuf JSON text of the number */
    char num_g[40]; /* J_NUM: "%g" text, used in untyped JSON */
};

struct or_alog_format {
    bool json;
    bool typed;
    bool omit_empty;
    struct op *ops; /* owned */
    unsigned nops;
    unsigned cap_ops;
    struct tspec *times; /* owned */
    unsigned ntimes;
    struct jnode root; /* JSON only */
};

struct or_alog_cache {
    struct tcache *t; /* owned, one per f->times */
    unsigned n;
};

/* ---------------------------------------------------------------------------------------------
 * Parser */

enum {
    SYN_CMD_ONLY = 1,   /* no (SUBCOMMAND), no :LENGTH */
    SYN_PARAMS_REQ = 2, /* (SUBCOMMAND) required */
    SYN_PARAMS_OPT = 4, /* (SUBCOMMAND) optional */
    SYN_LEN = 8,        /* :LENGTH allowed */
};

enum {
    SPECIAL_NONE,
    SPECIAL_HDR,
    SPECIAL_TIME,
    SPECIAL_GRPC,
    SPECIAL_ENV,
    SPECIAL_FILTER_STATE,
    SPECIAL_HOSTNAME,
};

struct cmd {
    const char *name; /* static */
    uint8_t syn;
    uint8_t kind;
    uint8_t sub;
    uint8_t mode;
    uint8_t special;
};

/* Envoy's built-in commands (SubstitutionFormatParser::getKnownFormatters). */
static const struct cmd builtin_cmds[] = {
    {"REQ", SYN_PARAMS_REQ | SYN_LEN, OP_HDR, HDR_REQ, 0, SPECIAL_HDR},
    {"RESP", SYN_PARAMS_REQ | SYN_LEN, OP_HDR, HDR_RESP, 0, SPECIAL_HDR},
    {"TRAILER", SYN_PARAMS_REQ | SYN_LEN, OP_HDR, HDR_TRAILER, 0, SPECIAL_HDR},
    {"LOCAL_REPLY_BODY", SYN_CMD_ONLY, OP_LOCAL_BODY, 0, 0, 0},
    {"GRPC_STATUS", SYN_PARAMS_OPT, OP_GRPC, GRPC_CAMEL, 0, SPECIAL_GRPC},
    {"GRPC_STATUS_NUMBER", SYN_CMD_ONLY, OP_GRPC, GRPC_NUMBER, 0, 0},
    {"REQUEST_HEADERS_BYTES", SYN_CMD_ONLY, OP_HDR_BYTES, HDR_REQ, 0, 0},
    {"RESPONSE_HEADERS_BYTES", SYN_CMD_ONLY, OP_HDR_BYTES, HDR_RESP, 0, 0},
    {"RESPONSE_TRAILERS_BYTES", SYN_CMD_ONLY, OP_HDR_BYTES, HDR_TRAILER, 0, 0},
    {"START_TIME", SYN_PARAMS_OPT, OP_TIME, 0, 0, SPECIAL_TIME},
    {"DYNAMIC_METADATA", SYN_PARAMS_REQ | SYN_LEN, OP_UNSET, 0, 0, 0},
    {"CLUSTER_METADATA", SYN_PARAMS_REQ | SYN_LEN, OP_UNSET, 0, 0, 0},
    {"UPSTREAM_METADATA", SYN_PARAMS_REQ | SYN_LEN, OP_UNSET, 0, 0, 0},
    {"FILTER_STATE", SYN_PARAMS_OPT | SYN_LEN, OP_UNSET, 0, 0, SPECIAL_FILTER_STATE},
    {"UPSTREAM_FILTER_STATE", SYN_PARAMS_OPT | SYN_LEN, OP_UNSET, 0, 0, SPECIAL_FILTER_STATE},
    {"DOWNSTREAM_PEER_CERT_V_START", SYN_PARAMS_OPT, OP_UNSET, 0, 0, 0},
    {"DOWNSTREAM_PEER_CERT_V_END", SYN_PARAMS_OPT, OP_UNSET, 0, 0, 0},
    {"UPSTREAM_PEER_CERT_V_START", SYN_PARAMS_OPT, OP_UNSET, 0, 0, 0},
    {"UPSTREAM_PEER_CERT_V_END", SYN_PARAMS_OPT, OP_UNSET, 0, 0, 0},
    {"ENVIRONMENT", SYN_PARAMS_REQ | SYN_LEN, OP_CONST, 0, 0, SPECIAL_ENV},
};

#define SI(name, kind, sub, mode)                                                                  \
    {                                                                                              \
        name, SYN_CMD_ONLY, kind, sub, mode, 0                                                     \
    }

/* Envoy's StreamInfo fields (StreamInfoFormatter::getKnownFieldExtractors); all take no
 * parameters. */
static const struct cmd stream_info_cmds[] = {
    SI("REQUEST_DURATION", OP_DURATION, DUR_REQUEST, 0),
    SI("REQUEST_TX_DURATION", OP_DURATION, DUR_REQUEST_TX, 0),
    SI("RESPONSE_DURATION", OP_DURATION, DUR_RESPONSE, 0),
    SI("RESPONSE_TX_DURATION", OP_DURATION, DUR_RESPONSE_TX, 0),
    SI("DOWNSTREAM_HANDSHAKE_DURATION", OP_UNSET, 0, 0),
    SI("BYTES_RECEIVED", OP_BYTES, 0, 0),
    SI("UPSTREAM_WIRE_BYTES_RECEIVED", OP_ZERO, 0, 0),
    SI("UPSTREAM_HEADER_BYTES_RECEIVED", OP_ZERO, 0, 0),
    SI("DOWNSTREAM_WIRE_BYTES_RECEIVED", OP_ZERO, 0, 0),
    SI("DOWNSTREAM_HEADER_BYTES_RECEIVED", OP_ZERO, 0, 0),
    SI("PROTOCOL", OP_PROTOCOL, 0, 0),
    SI("UPSTREAM_PROTOCOL", OP_PROTOCOL, 1, 0),
    SI("RESPONSE_CODE", OP_CODE, 0, 0),
    SI("RESPONSE_CODE_DETAILS", OP_DETAILS, 0, 0),
    SI("CONNECTION_TERMINATION_DETAILS", OP_TERM_DETAILS, 0, 0),
    SI("BYTES_SENT", OP_BYTES, 1, 0),
    SI("UPSTREAM_WIRE_BYTES_SENT", OP_ZERO, 0, 0),
    SI("UPSTREAM_HEADER_BYTES_SENT", OP_ZERO, 0, 0),
    SI("DOWNSTREAM_WIRE_BYTES_SENT", OP_ZERO, 0, 0),
    SI("DOWNSTREAM_HEADER_BYTES_SENT", OP_ZERO, 0, 0),
    SI("DURATION", OP_DURATION, DUR_TOTAL, 0),
    SI("RESPONSE_FLAGS", OP_FLAGS, 0, 0),
    SI("RESPONSE_FLAGS_LONG", OP_FLAGS, 1, 0),
    SI("UPSTREAM_HOST", OP_ADDR, ADDR_UP_REMOTE, AM_FULL),
    SI("UPSTREAM_CLUSTER", OP_CLUSTER, 0, 0),
    SI("UPSTREAM_CLUSTER_RAW", OP_CLUSTER, 0, 0),
    SI("UPSTREAM_LOCAL_ADDRESS", OP_ADDR, ADDR_UP_LOCAL, AM_FULL),
    SI("UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT", OP_ADDR, ADDR_UP_LOCAL, AM_NO_PORT),
    SI("UPSTREAM_LOCAL_PORT", OP_ADDR, ADDR_UP_LOCAL, AM_PORT),
    SI("UPSTREAM_REMOTE_ADDRESS", OP_ADDR, ADDR_UP_REMOTE, AM_FULL),
    SI("UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT", OP_ADDR, ADDR_UP_REMOTE, AM_NO_PORT),
    SI("UPSTREAM_REMOTE_PORT", OP_ADDR, ADDR_UP_REMOTE, AM_PORT),
    SI("UPSTREAM_REQUEST_ATTEMPT_COUNT", OP_ATTEMPTS, 0, 0),
    SI("UPSTREAM_TLS_CIPHER", OP_UNSET, 0, 0),
    SI("UPSTREAM_TLS_VERSION", OP_UNSET, 0, 0),
    SI("UPSTREAM_TLS_SESSION_ID", OP_UNSET, 0, 0),
    SI("UPSTREAM_PEER_ISSUER", OP_UNSET, 0, 0),
    SI("UPSTREAM_PEER_CERT", OP_UNSET, 0, 0),
    SI("UPSTREAM_PEER_SUBJECT", OP_UNSET, 0, 0),
    SI("DOWNSTREAM_LOCAL_ADDRESS", OP_ADDR, ADDR_DOWN_LOCAL, AM_FULL),
    SI("DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT", OP_ADDR, ADDR_DOWN_LOCAL, AM_NO_PORT),
    SI("DOWNSTREAM_LOCAL_PORT", OP_ADDR, ADDR_DOWN_LOCAL, AM_PORT),
    SI("DOWNSTREAM_REMOTE_ADDRESS", OP_ADDR, ADDR_DOWN_REMOTE, AM_FULL),
    SI("DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT", OP_ADDR, ADDR_DOWN_REMOTE, AM_NO_PORT),
    SI("DOWNSTREAM_REMOTE_PORT", OP_ADDR, ADDR_DOWN_REMOTE, AM_PORT),
    SI("DOWNSTREAM_DIRECT_REMOTE_ADDRESS", OP_ADDR, ADDR_DOWN_DIRECT, AM_FULL),
    SI("DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT", OP_ADDR, ADDR_DOWN_DIRECT, AM_NO_PORT),
    SI("DOWNSTREAM_DIRECT_REMOTE_PORT", OP_ADDR, ADDR_DOWN_DIRECT, AM_PORT),
    SI("CONNECTION_ID", OP_CONN_ID, 0, 0),
    SI("REQUESTED_SERVER_NAME", OP_SNI, 0, 0),
    SI("ROUTE_NAME", OP_ROUTE, 0, 0),
    SI("DOWNSTREAM_PEER_URI_SAN", OP_UNSET, 0, 0),
    SI("DOWNSTREAM_LOCAL_URI_SAN", OP_UNSET, 0, 0),
    SI("DOWNSTREAM_PEER_SUBJECT", OP_UNSET, 0, 0),
    SI("DOWNSTREAM_LOCAL_SUBJECT", OP_UNSET, 0, 0),
    SI("DOWNSTREAM_TLS_SESSION_ID", OP_UNSET, 0, 0),
    SI("DOWNSTREAM_TLS_CIPHER", OP_UNSET, 0, 0),
    SI("DOWNSTREAM_TLS_VERSION", OP_UNSET, 0, 0),
    SI("DOWNSTREAM_PEER_FINGERPRINT_256", OP_UNSET, 0, 0),
    SI("DOWNSTREAM_PEER_FINGERPRINT_1", OP_UNSET, 0, 0),
    SI("DOWNSTREAM_PEER_SERIAL", OP_UNSET, 0, 0),
    SI("DOWNSTREAM_PEER_ISSUER", OP_UNSET, 0, 0),
    SI("DOWNSTREAM_PEER_CERT", OP_UNSET, 0, 0),
    SI("UPSTREAM_TRANSPORT_FAILURE_REASON", OP_TFR, 0, 0),
    {"HOSTNAME", SYN_CMD_ONLY, OP_CONST, 0, 0, SPECIAL_HOSTNAME},
    SI("FILTER_CHAIN_NAME", OP_UNSET, 0, 0),
    SI("VIRTUAL_CLUSTER_NAME", OP_UNSET, 0, 0),
    SI("TLS_JA3_FINGERPRINT", OP_UNSET, 0, 0),
    SI("STREAM_ID", OP_STREAM_ID, 0, 0),
};

#undef SI

struct compiler {
    struct or_alog_format *f;  /* borrowed: the format being built */
    struct or_err_detail *err; /* borrowed, may be NULL */
    const char *path;          /* borrowed: field path for errors */
};

static const struct cmd *cmd_find(const struct cmd *tbl, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(tbl[i].name) == len && memcmp(tbl[i].name, name, len) == 0)
            return &tbl[i];
    return NULL;
}

static int fail(struct compiler *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct compiler *c, const char *fmt, ...)
{
    if (c->err != NULL) {
        snprintf(c->err->path, sizeof(c->err->path), "%s", c->path ? c->path : "");
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err->msg, sizeof(c->err->msg), fmt, ap);
        va_end(ap);
    }
    return OR_EINVAL;
}

static struct op *op_push(struct compiler *c)
{
    struct or_alog_format *f = c->f;
    if (f->nops == f->cap_ops) {
        unsigned cap = f->cap_ops ? f->cap_ops * 2 : 16;
        struct op *o = realloc(f->ops, cap * sizeof(*o));
        if (o == NULL)
            return NULL;
        f->ops = o;
        f->cap_ops = cap;
    }
    struct op *op = &f->ops[f->nops++];
    memset(op, 0, sizeof(*op));
    op->max_len = SIZE_MAX;
    return op;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d != NULL) {
        if (n)
            memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static char *dup_lower(const char *s, size_t n)
{
    char *d = dup_n(s, n);
    if (d != NULL)
        for (size_t i = 0; i < n; i++)
            if (d[i] >= 'A' && d[i] <= 'Z')
                d[i] = (char)(d[i] - 'A' + 'a');
    return d;
}

static int push_literal(struct compiler *c, const char *s, size_t n)
{
    struct op *op = op_push(c);
    if (op == NULL || (op->s1 = dup_n(s, n)) == NULL)
        return OR_ENOMEM;
    op->kind = OP_LIT;
    op->n1 = n;
    return 0;
}

static int syntax_check(struct compiler *c, const struct cmd *cmd, const char *sub, size_t sublen,
                        bool has_len)
{
    (void)sub;
    if (cmd->syn == SYN_CMD_ONLY && (sublen != 0 || has_len))
        return fail(c, "%s does not take any parameters or length", cmd->name);
    if ((cmd->syn & SYN_PARAMS_REQ) && sublen == 0)
        return fail(c, "%s requires parameters", cmd->name);
    if (!(cmd->syn & SYN_LEN) && has_len)
        return fail(c, "%s does not allow length to be specified.", cmd->name);
    return 0;
}

/* Builds the op for one parsed command. */
static int add_command(struct compiler *c, const char *name, size_t nlen, const char *sub,
                       size_t sublen, bool has_len, size_t max_len)
{
    const struct cmd *cmd =
        cmd_find(builtin_cmds, sizeof(builtin_cmds) / sizeof(builtin_cmds[0]), name, nlen);
    if (cmd == NULL)
        cmd = cmd_find(stream_info_cmds, sizeof(stream_info_cmds) / sizeof(stream_info_cmds[0]),
                       name, nlen);
    if (cmd == NULL)
        return fail(c, "Not supported field in StreamInfo: %.*s", (int)nlen, name);
    int rc = syntax_check(c, cmd, sub, sublen, has_len);
    if (rc != 0)
        return rc;

    switch (cmd->special) {
    case SPECIAL_HDR: {
        const char *q1 = memchr(sub, '?', sublen);
        size_t mlen = q1 ? (size_t)(q1 - sub) : sublen;
        const char *alt = q1 ? q1 + 1 : sub + sublen;
        size_t alen = q1 ? sublen - mlen - 1 : 0;
        if (q1 != NULL && memchr(alt, '?', alen) != NULL)
            return fail(c, "More than 1 alternative header specified in token: %.*s", (int)sublen,
                        sub);
        if (memchr(sub, '\n', sublen) != NULL)
            return fail(c, "Invalid header configuration. Format string contains newline.");
        break;
    }
    case SPECIAL_TIME:
        if (or_alog__time_has_newline(sub, sublen))
            return fail(c, "Invalid header configuration. Format string contains newline.");
        break;
    case SPECIAL_GRPC:
        break;
    case SPECIAL_FILTER_STATE: {
        const char *colon = memchr(sub, ':', sublen);
        size_t klen = colon ? (size_t)(colon - sub) : sublen;
        if (klen == 0)
            return fail(c, "Invalid filter state configuration, key cannot be empty.");
        if (colon != NULL) {
            const char *t = colon + 1;
            size_t tl = sublen - klen - 1;
            const char *t_end = memchr(t, ':', tl);
            if (t_end != NULL)
                tl = (size_t)(t_end - t);
            if (tl != 0 && !(tl == 5 && memcmp(t, "PLAIN", 5) == 0) &&
                !(tl == 5 && memcmp(t, "TYPED", 5) == 0))
                return fail(c, "Invalid filter state serialize type, only support PLAIN/TYPED.");
        }
        break;
    }
    default:
        break;
    }

    struct op *op = op_push(c);
    if (op == NULL)
        return OR_ENOMEM;
    op->kind = cmd->kind;
    op->sub = cmd->sub;
    op->mode = cmd->mode;
    if (has_len)
        op->max_len = max_len;

    switch (cmd->special) {
    case SPECIAL_HDR: {
        const char *q1 = memchr(sub, '?', sublen);
        size_t mlen = q1 ? (size_t)(q1 - sub) : sublen;
        if ((op->s1 = dup_lower(sub, mlen)) == NULL)
            return OR_ENOMEM;
        op->n1 = mlen;
        if (q1 != NULL) {
            op->n2 = sublen - mlen - 1;
            if ((op->s2 = dup_lower(q1 + 1, op->n2)) == NULL)
                return OR_ENOMEM;
        }
        break;
    }
    case SPECIAL_TIME: {
        struct tspec *t = realloc(c->f->times, (c->f->ntimes + 1) * sizeof(*t));
        if (t == NULL)
            return OR_ENOMEM;
        c->f->times = t;
        memset(&t[c->f->ntimes], 0, sizeof(*t));
        op->time_idx = c->f->ntimes++;
        if ((rc = or_alog__tspec_compile(&t[op->time_idx], sub, sublen)) != 0)
            return rc;
        break;
    }
    case SPECIAL_GRPC:
        if (sublen == 0 || (sublen == 12 && memcmp(sub, "CAMEL_STRING", 12) == 0))
            op->sub = GRPC_CAMEL;
        else if (sublen == 12 && memcmp(sub, "SNAKE_STRING", 12) == 0)
            op->sub = GRPC_SNAKE;
        else if (sublen == 6 && memcmp(sub, "NUMBER", 6) == 0)
            op->sub = GRPC_NUMBER;
        else
            return fail(c, "GrpcStatusFormatter only supports CAMEL_STRING, SNAKE_STRING or "
                           "NUMBER.");
        break;
    case SPECIAL_ENV: {
        /* Read once at configuration time, as Envoy's EnvironmentFormatter does; a missing
         * variable is the literal "-". */
        char key[256];
        snprintf(key, sizeof(key), "%.*s", (int)sublen, sub);
        const char *v = getenv(key);
        size_t vl = v ? strlen(v) : 1;
        if (v == NULL)
            v = "-";
        else if (vl > op->max_len)
            vl = op->max_len;
        if ((op->s1 = dup_n(v, vl)) == NULL)
            return OR_ENOMEM;
        op->n1 = vl;
        op->max_len = SIZE_MAX;
        break;
    }
    case SPECIAL_HOSTNAME: {
        char host[256];
        if (gethostname(host, sizeof(host)) == 0) {
            host[sizeof(host) - 1] = '\0';
            op->n1 = strlen(host);
            if ((op->s1 = dup_n(host, op->n1)) == NULL)
                return OR_ENOMEM;
        }
        break;
    }
    default:
        break;
    }
    return 0;
}

static bool is_cmd_char(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
}

/* Envoy's SubstitutionFormatParser::parse: literals, "%%", and commands matching
 * ^%([A-Z0-9_]+)(?:\(([^)]*)\))?(?::([0-9]+))?% at each unescaped '%'. Appends the ops to c->f;
 * first and count give the range. An empty format is one empty literal. */
static int parse_text(struct compiler *c, const char *s, size_t n, unsigned *first, unsigned *count)
{
    *first = c->f->nops;
    struct or_alog_buf lit = {0};
    int rc = 0;
    for (size_t pos = 0; pos < n; pos++) {
        if (s[pos] != '%') {
            buf_putc(&lit, s[pos]);
            continue;
        }
        if (pos + 1 < n && s[pos + 1] == '%') {
            buf_putc(&lit, '%');
            pos++;
            continue;
        }
        if (lit.oom) {
            rc = OR_ENOMEM;
            goto out;
        }
        if (lit.len > 0) {
            if ((rc = push_literal(c, lit.p, lit.len)) != 0)
                goto out;
            lit.len = 0;
        }
        size_t i = pos + 1;
        while (i < n && is_cmd_char(s[i]))
            i++;
        size_t name_end = i;
        const char *sub = "";
        size_t sublen = 0;
        bool has_len = false;
        size_t max_len = 0;
        bool ok = name_end > pos + 1;
        if (ok && i < n && s[i] == '(') {
            const char *close = memchr(s + i + 1, ')', n - i - 1);
            if (close != NULL) {
                sub = s + i + 1;
                sublen = (size_t)(close - sub);
                i = (size_t)(close - s) + 1;
            }
        }
        if (ok && i < n && s[i] == ':' && i + 1 < n && s[i + 1] >= '0' && s[i + 1] <= '9') {
            size_t j = i + 1;
            bool overflow = false;
            while (j < n && s[j] >= '0' && s[j] <= '9') {
                if (max_len > (SIZE_MAX - 9) / 10)
                    overflow = true;
                max_len = max_len * 10 + (size_t)(s[j] - '0');
                j++;
            }
            if (j < n && s[j] == '%') {
                if (overflow) {
                    rc = fail(c, "Length must be an integer, given: %.*s", (int)(j - i - 1),
                              s + i + 1);
                    goto out;
                }
                has_len = true;
                i = j;
            }
        }
        if (!ok || i >= n || s[i] != '%') {
            rc = fail(c,
                      "Incorrect configuration: %.*s. Couldn't find valid command at position %zu",
                      (int)(n > 300 ? 300 : n), s, pos);
            goto out;
        }
        rc = add_command(c, s + pos + 1, name_end - pos - 1, sub, sublen, has_len, max_len);
        if (rc != 0)
            goto out;
        pos = i;
    }
    if (lit.oom) {
        rc = OR_ENOMEM;
        goto out;
    }
    if (lit.len > 0 || n == 0)
        rc = push_literal(c, lit.p ? lit.p : "", lit.len);
out:
    or_alog_buf_free(&lit);
    *count = c->f->nops - *first;
    return rc;
}

/* ---------------------------------------------------------------------------------------------
 * Formats: compile / free */

static void jnode_free(struct jnode *j)
{
    for (unsigned i = 0; i < j->nkids; i++)
        jnode_free(&j->kids[i]);
    free(j->kids);
    free(j->key);
    free(j->rawkey);
}

void or_alog_format_free(struct or_alog_format *f)
{
    if (f == NULL)
        return;
    for (unsigned i = 0; i < f->nops; i++) {
        free(f->ops[i].s1);
        free(f->ops[i].s2);
    }
    free(f->ops);
    for (unsigned i = 0; i < f->ntimes; i++)
        or_alog__tspec_free(&f->times[i]);
    free(f->times);
    jnode_free(&f->root);
    free(f);
}

int or_alog_format_compile_text(const char *text, size_t len, bool omit_empty,
                                struct or_alog_format **out, struct or_err_detail *err,
                                const char *path)
{
    *out = NULL;
    struct or_alog_format *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return OR_ENOMEM;
    f->omit_empty = omit_empty;
    struct compiler c = {f, err, path};
    unsigned first, count;
    int rc = parse_text(&c, text ? text : "", text ? len : 0, &first, &count);
    if (rc != 0) {
        or_alog_format_free(f);
        return rc;
    }
    *out = f;
    return 0;
}

/* protobuf's JSON text for a double (SimpleDtoa: %.15g unless it does not read back). */
static void fmt_double(double v, char *buf, size_t len)
{
    if (isnan(v)) {
        snprintf(buf, len, "\"NaN\"");
        return;
    }
    if (isinf(v)) {
        snprintf(buf, len, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        return;
    }
    snprintf(buf, len, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, len, "%.17g", v);
}

static int json_compile_value(struct compiler *c, const Google__Protobuf__Value *v,
                              struct jnode *out, char *path, size_t plen, size_t pcap);

static int json_compile_struct(struct compiler *c, const Google__Protobuf__Struct *s,
                               struct jnode *out, char *path, size_t plen, size_t pcap)
{
    out->kind = J_OBJ;
    if (s == NULL || s->n_fields == 0)
        return 0;
    out->kids = calloc(s->n_fields, sizeof(*out->kids));
    if (out->kids == NULL)
        return OR_ENOMEM;
    for (size_t i = 0; i < s->n_fields; i++) {
        const Google__Protobuf__Struct__FieldsEntry *e = s->fields[i];
        struct jnode *k = &out->kids[out->nkids++];
        const char *key = e->key ? e->key : "";
        struct or_alog_buf kb = {0};
        buf_putc(&kb, '"');
        buf_put_json_escaped(&kb, key, strlen(key));
        buf_put(&kb, "\":", 2);
        if (kb.oom || (k->rawkey = strdup(key)) == NULL) {
            or_alog_buf_free(&kb);
            return OR_ENOMEM;
        }
        k->key = kb.p;
        k->keylen = kb.len;
        int l = snprintf(path + plen, pcap - plen, ".%s", key);
        size_t nl = plen + (l > 0 ? (size_t)l : 0);
        if (nl >= pcap)
            nl = pcap - 1;
        int rc = json_compile_value(c, e->value, k, path, nl, pcap);
        path[plen] = '\0';
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int json_compile_value(struct compiler *c, const Google__Protobuf__Value *v,
                              struct jnode *out, char *path, size_t plen, size_t pcap)
{
    const char *saved = c->path;
    c->path = path;
    int rc = 0;
    switch (v ? v->kind_case : GOOGLE__PROTOBUF__VALUE__KIND__NOT_SET) {
    case GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE: {
        out->kind = J_OPS;
        const char *s = v->string_value ? v->string_value : "";
        rc = parse_text(c, s, strlen(s), &out->op_first, &out->op_n);
        break;
    }
    case GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE:
        out->kind = J_NUM;
        fmt_double(v->number_value, out->num, sizeof(out->num));
        snprintf(out->num_g, sizeof(out->num_g), "%g", v->number_value);
        break;
    case GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE:
        rc = json_compile_struct(c, v->struct_value, out, path, plen, pcap);
        break;
    case GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE: {
        out->kind = J_LIST;
        const Google__Protobuf__ListValue *l = v->list_value;
        if (l == NULL || l->n_values == 0)
            break;
        out->kids = calloc(l->n_values, sizeof(*out->kids));
        if (out->kids == NULL) {
            rc = OR_ENOMEM;
            break;
        }
        for (size_t i = 0; i < l->n_values && rc == 0; i++) {
            int w = snprintf(path + plen, pcap - plen, "[%zu]", i);
            size_t nl = plen + (w > 0 ? (size_t)w : 0);
            if (nl >= pcap)
                nl = pcap - 1;
            rc = json_compile_value(c, l->values[i], &out->kids[out->nkids++], path, nl, pcap);
            path[plen] = '\0';
        }
        break;
    }
    default:
        rc = fail(c, "Only string values, nested structs, list values and number values are "
                     "supported in structured access log format.");
    }
    c->path = saved;
    return rc;
}

static int jkey_cmp(const void *a, const void *b)
{
    const struct jnode *x = a, *y = b;
    return strcmp(x->rawkey, y->rawkey);
}

static void json_sort(struct jnode *j)
{
    if (j->kind == J_OBJ && j->nkids > 1)
        qsort(j->kids, j->nkids, sizeof(*j->kids), jkey_cmp);
    for (unsigned i = 0; i < j->nkids; i++)
        json_sort(&j->kids[i]);
}

int or_alog_format_compile_json(const Google__Protobuf__Struct *s, bool typed, bool omit_empty,
                                bool sort_keys, struct or_alog_format **out,
                                struct or_err_detail *err, const char *path)
{
    *out = NULL;
    struct or_alog_format *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return OR_ENOMEM;
    f->json = true;
    f->typed = typed;
    f->omit_empty = omit_empty;
    char p[512];
    snprintf(p, sizeof(p), "%s", path ? path : "");
    struct compiler c = {f, err, p};
    int rc = json_compile_struct(&c, s, &f->root, p, strlen(p), sizeof(p));
    if (rc != 0) {
        or_alog_format_free(f);
        return rc;
    }
    if (sort_keys)
        json_sort(&f->root);
    *out = f;
    return 0;
}

static int read_file(const char *name, char **data, size_t *len)
{
    FILE *fp = fopen(name, "rb");
    if (fp == NULL)
        return OR_ESYS;
    struct or_alog_buf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        buf_put(&b, chunk, n);
    int bad = ferror(fp);
    fclose(fp);
    if (bad || b.oom) {
        or_alog_buf_free(&b);
        return bad ? OR_ESYS : OR_ENOMEM;
    }
    *data = b.p;
    *len = b.len;
    return 0;
}

int or_alog_format_from_proto(const Envoy__Config__Core__V3__SubstitutionFormatString *sfs,
                              struct or_alog_format **out, struct or_err_detail *err,
                              const char *path)
{
    char p[512];
    *out = NULL;
    if (sfs == NULL)
        return or_err_set(err, path, "a format is required");
    bool omit = sfs->omit_empty_values;
    switch (sfs->format_case) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    case ENVOY__CONFIG__CORE__V3__SUBSTITUTION_FORMAT_STRING__FORMAT_TEXT_FORMAT: {
        snprintf(p, sizeof(p), "%s.text_format", path);
        const char *t = sfs->text_format ? sfs->text_format : "";
        return or_alog_format_compile_text(t, strlen(t), omit, out, err, p);
    }
#pragma GCC diagnostic pop
    case ENVOY__CONFIG__CORE__V3__SUBSTITUTION_FORMAT_STRING__FORMAT_JSON_FORMAT: {
        snprintf(p, sizeof(p), "%s.json_format", path);
        bool sort = sfs->json_format_options && sfs->json_format_options->sort_properties;
        return or_alog_format_compile_json(sfs->json_format, true, omit, sort, out, err, p);
    }
    case ENVOY__CONFIG__CORE__V3__SUBSTITUTION_FORMAT_STRING__FORMAT_TEXT_FORMAT_SOURCE: {
        const Envoy__Config__Core__V3__DataSource *ds = sfs->text_format_source;
        switch (ds ? ds->specifier_case
                   : ENVOY__CONFIG__CORE__V3__DATA_SOURCE__SPECIFIER__NOT_SET) {
        case ENVOY__CONFIG__CORE__V3__DATA_SOURCE__SPECIFIER_INLINE_STRING:
            snprintf(p, sizeof(p), "%s.text_format_source.inline_string", path);
            return or_alog_format_compile_text(ds->inline_string,
                                               ds->inline_string ? strlen(ds->inline_string) : 0,
                                               omit, out, err, p);
        case ENVOY__CONFIG__CORE__V3__DATA_SOURCE__SPECIFIER_INLINE_BYTES:
            snprintf(p, sizeof(p), "%s.text_format_source.inline_bytes", path);
            return or_alog_format_compile_text((const char *)ds->inline_bytes.data,
                                               ds->inline_bytes.len, omit, out, err, p);
        case ENVOY__CONFIG__CORE__V3__DATA_SOURCE__SPECIFIER_FILENAME: {
            snprintf(p, sizeof(p), "%s.text_format_source.filename", path);
            char *data = NULL;
            size_t len = 0;
            int rc = read_file(ds->filename, &data, &len);
            if (rc == OR_ENOMEM)
                return rc;
            if (rc != 0)
                return or_err_set(err, p, "unable to read file: %s: %s", ds->filename,
                                  strerror(errno));
            rc = or_alog_format_compile_text(data, len, omit, out, err, p);
            free(data);
            return rc;
        }
        default:
            snprintf(p, sizeof(p), "%s.text_format_source", path);
            return or_err_set(err, p, "one of filename, inline_bytes, inline_string is required");
        }
    }
    default:
        return or_err_set(err, path,
                          "one of text_format_source, json_format, text_format is required");
    }
}

struct or_alog_cache *or_alog_cache_new(const struct or_alog_format *f)
{
    struct or_alog_cache *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    if (f->ntimes == 0)
        return c;
    c->t = calloc(f->ntimes, sizeof(*c->t));
    if (c->t == NULL)
        goto fail;
    c->n = f->ntimes;
    for (unsigned i = 0; i < f->ntimes; i++) {
        c->t[i].ends = calloc(f->times[i].n, sizeof(size_t));
        if (c->t[i].ends == NULL)
            goto fail;
    }
    return c;
fail:
    or_alog_cache_free(c);
    return NULL;
}

void or_alog_cache_free(struct or_alog_cache *c)
{
    if (c == NULL)
        return;
    for (unsigned i = 0; i < c->n; i++)
        free(c->t[i].ends);
    free(c->t);
    free(c);
}

/* ---------------------------------------------------------------------------------------------
 * Evaluation */

enum { V_UNSET, V_STR, V_U64, V_I64 };

struct val {
    int k;
    const char *s; /* borrowed: the record, the format or the caller's tmp buffer */
    size_t n;
    uint64_t u;
    int64_t i;
};

struct ctx {
    const struct or_alog_format *f;      /* borrowed */
    const struct or_access_log_info *in; /* borrowed */
    struct or_alog_cache *cache;         /* borrowed, may be NULL */
};

#define TMP_CAP 1024

static void set_str(struct val *v, struct or_str s)
{
    if (s.ptr == NULL) {
        v->k = V_UNSET;
        return;
    }
    v->k = V_STR;
    v->s = s.ptr;
    v->n = s.len;
}

static const struct or_headers *hdr_map(const struct or_access_log_info *in, int which)
{
    return which == HDR_REQ    ? in->req_headers
           : which == HDR_RESP ? in->resp_headers
                               : in->resp_trailers;
}

/* Envoy's Address::asString / formatDownstreamAddressNoPort / JustPort. */
static void eval_addr(const struct sockaddr *sa, int mode, char *tmp, struct val *v)
{
    v->k = V_UNSET;
    if (sa == NULL)
        return;
    char ip[INET6_ADDRSTRLEN];
    unsigned port;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
        port = ntohs(s4->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
        port = ntohs(s6->sin6_port);
    } else if (sa->sa_family == AF_UNIX) {
        const struct sockaddr_un *su = (const struct sockaddr_un *)(const void *)sa;
        v->k = V_STR;
        v->s = tmp;
        if (mode == AM_PORT) {
            v->n = 0;
        } else if (su->sun_path[0] == '\0') {
            v->n = (size_t)snprintf(tmp, TMP_CAP, "@%.*s", (int)sizeof(su->sun_path) - 1,
                                    su->sun_path + 1);
        } else {
            v->n = (size_t)snprintf(tmp, TMP_CAP, "%.*s", (int)sizeof(su->sun_path), su->sun_path);
        }
        return;
    } else {
        return;
    }
    v->k = V_STR;
    v->s = tmp;
    if (mode == AM_PORT)
        v->n = (size_t)snprintf(tmp, TMP_CAP, "%u", port);
    else if (mode == AM_NO_PORT)
        v->n = (size_t)snprintf(tmp, TMP_CAP, "%s", ip);
    else if (sa->sa_family == AF_INET6)
        v->n = (size_t)snprintf(tmp, TMP_CAP, "[%s]:%u", ip, port);
    else
        v->n = (size_t)snprintf(tmp, TMP_CAP, "%s:%u", ip, port);
}

static const char *const grpc_camel[] = {
    "Ok",       "Canceled",        "Unknown",          "InvalidArgument",   "DeadlineExceeded",
    "NotFound", "AlreadyExists",   "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
    "Aborted",  "OutOfRange",      "Unimplemented",    "Internal",          "Unavailable",
    "DataLoss", "Unauthenticated",
};
static const char *const grpc_snake[] = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
};

/* Grpc::Common::getGrpcStatus(trailers, headers, info): grpc-status from the trailers, else from
 * the headers (unparsable = InvalidCode -1), else derived from the HTTP status. */
static bool grpc_status(const struct or_access_log_info *in, int64_t *code)
{
    const struct or_str *gs = NULL;
    if (in->resp_trailers != NULL)
        gs = or_headers_get_n(in->resp_trailers, "grpc-status", 11);
    if (gs == NULL && in->resp_headers != NULL)
        gs = or_headers_get_n(in->resp_headers, "grpc-status", 11);
    if (gs != NULL) {
        uint64_t n = 0;
        bool ok = gs->len > 0 && gs->len <= 19;
        for (size_t i = 0; ok && i < gs->len; i++) {
            if (gs->ptr[i] < '0' || gs->ptr[i] > '9')
                ok = false;
            else
                n = n * 10 + (uint64_t)(gs->ptr[i] - '0');
        }
        *code = ok ? (int64_t)n : -1;
        return true;
    }
    if (in->response_code == 0)
        return false;
    switch (in->response_code) {
    case 400:
        *code = 13;
        break;
    case 401:
        *code = 16;
        break;
    case 403:
        *code = 7;
        break;
    case 404:
        *code = 12;
        break;
    case 429:
    case 502:
    case 503:
    case 504:
        *code = 14;
        break;
    default:
        *code = 2;
    }
    return true;
}

static void eval(const struct ctx *x, const struct op *op, char *tmp, struct val *v)
{
    const struct or_access_log_info *in = x->in;
    v->k = V_UNSET;
    switch (op->kind) {
    case OP_LIT:
        v->k = V_STR, v->s = op->s1, v->n = op->n1;
        return;
    case OP_CONST:
        if (op->s1 != NULL)
            v->k = V_STR, v->s = op->s1, v->n = op->n1;
        return;
    case OP_TIME: {
        struct tcache *tc =
            x->cache && op->time_idx < x->cache->n ? &x->cache->t[op->time_idx] : NULL;
        v->k = V_STR;
        v->s = tmp;
        v->n = or_alog__time_render(&x->f->times[op->time_idx], &in->start_time, tc, tmp, TMP_CAP);
        return;
    }
    case OP_HDR: {
        const struct or_headers *h = hdr_map(in, op->sub);
        if (h == NULL)
            return;
        const struct or_str *hv = or_headers_get_n(h, op->s1, op->n1);
        if (hv == NULL && op->n2 > 0)
            hv = or_headers_get_n(h, op->s2, op->n2);
        if (hv == NULL)
            return;
        v->k = V_STR;
        v->s = hv->ptr ? hv->ptr : "";
        v->n = hv->len < op->max_len ? hv->len : op->max_len;
        return;
    }
    case OP_HDR_BYTES: {
        const struct or_headers *h = hdr_map(in, op->sub);
        uint64_t sum = 0;
        for (uint32_t i = 0; h != NULL && i < h->n; i++)
            sum += h->v[i].name.len + h->v[i].value.len;
        v->k = V_U64, v->u = sum;
        return;
    }
    case OP_PROTOCOL:
        set_str(v, op->sub ? in->upstream_protocol : in->protocol);
        return;
    case OP_CODE:
        v->k = V_U64, v->u = in->response_code;
        return;
    case OP_DETAILS:
        set_str(v, in->response_code_details);
        return;
    case OP_TERM_DETAILS:
        set_str(v, in->connection_termination_details);
        return;
    case OP_BYTES:
        v->k = V_U64, v->u = op->sub ? in->bytes_sent : in->bytes_received;
        return;
    case OP_DURATION: {
        int64_t ns = -1;
        switch (op->sub) {
        case DUR_TOTAL:
            ns = in->duration_ns;
            break;
        case DUR_REQUEST:
            ns = in->request_duration_ns;
            break;
        case DUR_REQUEST_TX:
            ns = in->request_tx_duration_ns;
            break;
        case DUR_RESPONSE:
            ns = in->response_duration_ns;
            break;
        case DUR_RESPONSE_TX: {
            int64_t end =
                in->downstream_tx_end_ns >= 0 ? in->downstream_tx_end_ns : in->duration_ns;
            if (end < 0 || in->response_duration_ns < 0)
                return;
            v->k = V_I64, v->i = (end - in->response_duration_ns) / 1000000;
            return;
        }
        }
        if (ns >= 0)
            v->k = V_U64, v->u = (uint64_t)ns / 1000000u;
        return;
    }
    case OP_FLAGS:
        v->k = V_STR;
        v->s = tmp;
        v->n = or_access_log_flags_str(in->response_flags, op->sub != 0, tmp, TMP_CAP);
        if (v->n >= TMP_CAP)
            v->n = TMP_CAP - 1;
        return;
    case OP_ADDR: {
        const struct sockaddr *sa = NULL;
        switch (op->sub) {
        case ADDR_DOWN_LOCAL:
            sa = in->downstream_local_addr;
            break;
        case ADDR_DOWN_REMOTE:
            sa = in->downstream_remote_addr;
            break;
        case ADDR_DOWN_DIRECT:
            sa = in->downstream_direct_remote_addr ? in->downstream_direct_remote_addr
                                                   : in->downstream_remote_addr;
            break;
        case ADDR_UP_LOCAL:
            sa = in->upstream_local_addr;
            break;
        case ADDR_UP_REMOTE:
            sa = in->upstream_host;
            break;
        }
        eval_addr(sa, op->mode, tmp, v);
        return;
    }
    case OP_CLUSTER:
        if (in->upstream_cluster.ptr != NULL && in->upstream_cluster.len > 0)
            set_str(v, in->upstream_cluster);
        return;
    case OP_TFR: {
        struct or_str r = in->upstream_transport_failure_reason;
        if (r.ptr == NULL || r.len == 0)
            return;
        size_t n = r.len < TMP_CAP ? r.len : TMP_CAP;
        for (size_t i = 0; i < n; i++)
            tmp[i] = r.ptr[i] == ' ' ? '_' : r.ptr[i];
        v->k = V_STR, v->s = tmp, v->n = n;
        return;
    }
    case OP_ATTEMPTS:
        v->k = V_U64, v->u = in->upstream_attempt_count;
        return;
    case OP_CONN_ID:
        v->k = V_U64, v->u = in->connection_id;
        return;
    case OP_ROUTE:
        if (in->route_name.len > 0)
            set_str(v, in->route_name);
        return;
    case OP_SNI:
        if (in->requested_server_name.len > 0)
            set_str(v, in->requested_server_name);
        return;
    case OP_STREAM_ID: {
        const struct or_str *id =
            in->req_headers ? or_headers_get_n(in->req_headers, "x-request-id", 12) : NULL;
        if (id != NULL && id->len > 0)
            set_str(v, *id);
        return;
    }
    case OP_GRPC: {
        int64_t code;
        if (!grpc_status(in, &code))
            return;
        if (op->sub == GRPC_NUMBER) {
            v->k = V_I64, v->i = code;
            return;
        }
        const char *const *names = op->sub == GRPC_SNAKE ? grpc_snake : grpc_camel;
        v->k = V_STR;
        if (code >= 0 && code <= 16) {
            v->s = names[code];
            v->n = strlen(v->s);
        } else {
            v->s = tmp;
            v->n = (size_t)snprintf(tmp, TMP_CAP, "%lld", (long long)code);
        }
        return;
    }
    case OP_LOCAL_BODY:
        v->k = V_STR;
        v->s = in->local_reply_body.ptr ? in->local_reply_body.ptr : "";
        v->n = in->local_reply_body.len;
        return;
    case OP_ZERO:
        v->k = V_U64, v->u = 0;
        return;
    case OP_UNSET:
    default:
        return;
    }
}

/* Text form of a value (unset: "-" or "" with omit_empty). json: escape for a JSON string. */
static void put_text(struct or_alog_buf *b, const struct val *v, bool omit_empty, bool json)
{
    switch (v->k) {
    case V_STR:
        if (json)
            buf_put_json_escaped(b, v->s, v->n);
        else
            buf_put(b, v->s, v->n);
        break;
    case V_U64:
        buf_put_u64(b, v->u);
        break;
    case V_I64:
        buf_put_i64(b, v->i);
        break;
    default:
        if (!omit_empty)
            buf_putc(b, '-');
    }
}

static void render_concat(const struct ctx *x, unsigned first, unsigned n, bool json,
                          struct or_alog_buf *b)
{
    char tmp[TMP_CAP];
    for (unsigned i = 0; i < n; i++) {
        struct val v;
        eval(x, &x->f->ops[first + i], tmp, &v);
        put_text(b, &v, x->f->omit_empty, json);
    }
}

/* Typed JSON value of one operator: strings quoted, numbers bare, unset null. */
static void put_typed(struct or_alog_buf *b, const struct val *v)
{
    switch (v->k) {
    case V_STR:
        buf_putc(b, '"');
        buf_put_json_escaped(b, v->s, v->n);
        buf_putc(b, '"');
        break;
    case V_U64:
        buf_put_u64(b, v->u);
        break;
    case V_I64:
        buf_put_i64(b, v->i);
        break;
    default:
        buf_put(b, "null", 4);
    }
}

static void render_json(const struct ctx *x, const struct jnode *j, struct or_alog_buf *b);

/* Renders j (as a member when it has a key, or a list element), unless it is an omitted null.
 * *first tracks the separator. */
static void render_member(const struct ctx *x, const struct jnode *j, bool *first,
                          struct or_alog_buf *b)
{
    const struct or_alog_format *f = x->f;
    if (j->kind == J_OPS && f->typed && j->op_n == 1) {
        char tmp[TMP_CAP];
        struct val v;
        eval(x, &f->ops[j->op_first], tmp, &v);
        if (v.k == V_UNSET && f->omit_empty)
            return;
        if (!*first)
            buf_putc(b, ',');
        *first = false;
        buf_put(b, j->key, j->keylen);
        put_typed(b, &v);
        return;
    }
    if (!*first)
        buf_putc(b, ',');
    *first = false;
    buf_put(b, j->key, j->keylen);
    render_json(x, j, b);
}

static void render_json(const struct ctx *x, const struct jnode *j, struct or_alog_buf *b)
{
    bool first = true;
    switch (j->kind) {
    case J_OBJ:
        buf_putc(b, '{');
        for (unsigned i = 0; i < j->nkids; i++)
            render_member(x, &j->kids[i], &first, b);
        buf_putc(b, '}');
        break;
    case J_LIST:
        buf_putc(b, '[');
        for (unsigned i = 0; i < j->nkids; i++)
            render_member(x, &j->kids[i], &first, b);
        buf_putc(b, ']');
        break;
    case J_NUM:
        if (x->f->typed) {
            buf_put(b, j->num, strlen(j->num));
        } else {
            buf_putc(b, '"');
            buf_put(b, j->num_g, strlen(j->num_g));
            buf_putc(b, '"');
        }
        break;
    case J_OPS:
        if (x->f->typed && j->op_n == 1) {
            char tmp[TMP_CAP];
            struct val v;
            eval(x, &x->f->ops[j->op_first], tmp, &v);
            put_typed(b, &v);
            break;
        }
        buf_putc(b, '"');
        render_concat(x, j->op_first, j->op_n, true, b);
        buf_putc(b, '"');
        break;
    }
}

void or_alog_format_render(const struct or_alog_format *f, const struct or_access_log_info *info,
                           struct or_alog_cache *cache, struct or_alog_buf *out)
{
    struct ctx x = {f, info, cache};
    if (!f->json) {
        render_concat(&x, 0, f->nops, false, out);
        return;
    }
    render_json(&x, &f->root, out);
    buf_putc(out, '\n');
}
