/* Envoy's tag extraction (TagProducerImpl, TagExtractor*Impl, Config::TagNames) and stats matcher
 * (StatsMatcherImpl).
 *
 * Every extractor looks at the full stat name. A regex extractor needs a match with at least one
 * capture group: the first group's characters are removed from the name, the second group (or
 * the first when there is no second) is the tag value. A token extractor ("cluster.$.**") matches
 * dot-separated tokens ('*' one token, '**' any number, '$' the value) and removes the value token
 * with one adjacent dot. A fixed_value tag is added to every stat. The tag-extracted name is the
 * name minus the union of all removed ranges; tags keep the order in which extractors matched.
 * Extractors whose regex starts with "^<word>\." (or whose token pattern starts with a literal
 * word) only run on names whose first token is <word>, after all the others: this ordering is
 * Envoy's, and it decides the order of Prometheus labels. When several extractors share a tag
 * name, only the first that matches adds a tag.
 *
 * Envoy compiles user-supplied TagSpecifier regexes with std::regex (ECMAScript); Outrider uses
 * RE2 for them too, so a pattern using look-ahead or back-references is a config error here.
 * App Mesh's patterns (".*?\.ingress\.((\w+?)\.)[0-9]+?\.(.+?)$" ...) are RE2-compatible and
 * leftmost-first submatch rules make them behave identically. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "envoy/config/metrics/v3/stats.pb-c.h"
#include "proxy/core/str.h"
#include "proxy/router/regex.h"
#include "proxy/stats/stats.h"
#include "proxy/stats/stats_internal.h"

enum ex_kind {
    EX_RE2, /* Envoy's built-in RE2 extractors: non-empty first group, empty value -> group 1 */
    EX_STD, /* user regex (std::regex semantics in Envoy): value = group 2 if the pattern has it */
    EX_TOKENS,
    EX_FIXED,
};

struct extractor {
    char *name; /* owned: tag name */
    enum ex_kind kind;
    struct or_regex *re; /* owned: EX_RE2, EX_STD */
    char *substr;        /* owned, NULL = none: the name must contain it (a fast pre-check) */
    char *negative;      /* owned, NULL = none: a value that does not count as a match */
    char **tokens;       /* owned: EX_TOKENS pattern tokens */
    uint32_t ntokens;
    uint32_t match_index; /* EX_TOKENS: index of "$" */
    char *value;          /* owned: EX_FIXED */
    char *prefix;         /* owned, NULL = runs on every name; else only if first token matches */
    bool dup_name;        /* another extractor has the same tag name */
};

struct or_stats_tagger {
    struct extractor *ex; /* owned, in insertion order */
    size_t n;
    size_t cap;
};

struct string_match {
    int kind; /* 0 exact, 1 prefix, 2 suffix, 3 contains, 4 regex (full match) */
    bool ignore_case;
    char *value;         /* owned */
    struct or_regex *re; /* owned */
};

struct or_stats_matcher {
    int mode;                  /* 1 reject all, 2 exclusion list, 3 inclusion list */
    struct string_match *pats; /* owned */
    size_t n;
};

/* ---- Envoy's default tag extractors (source/common/config/well_known_names.cc) ---- */

/* Regex building blocks, expanded like Envoy's expandRegex(). */
#define TAG_VALUE "[^\\.]+"
#define ADDRESS "(?:(?:\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}|\\[[a-fA-F_\\d]+\\])_\\d+)"
#define CIPHER "[\\w-]+"
#define ROUTE_CONFIG_NAME "[\\w-\\.]+"

static const struct {
    const char *name;
    const char *regex;
    const char *substr;
    const char *negative;
} default_re2[] = {
    {"envoy.response_code", "_rq(_(\\d{3}))$", "_rq_", NULL},
    {"envoy.response_code_class", "_rq_((\\d))xx$", "_rq_", NULL},
    {"envoy.dynamo_partition_id",
     "^http\\." TAG_VALUE "\\.dynamodb\\.table\\." TAG_VALUE "\\.capacity\\." TAG_VALUE
     "(\\.__partition_id=(\\w{7}))$",
     ".dynamodb.table.", NULL},
    {"envoy.dynamo_operation",
     "^http\\." TAG_VALUE "\\.dynamodb.(?:operation|table\\." TAG_VALUE
     "\\.capacity)(\\.(" TAG_VALUE "))(?:\\.|$)",
     ".dynamodb.", NULL},
    {"envoy.dynamo_table",
     "^http\\." TAG_VALUE "\\.dynamodb.(?:table|error)\\.((" TAG_VALUE ")\\.)", ".dynamodb.", NULL},
    {"envoy.ssl_cipher", "^listener\\..*?\\.ssl\\.ciphers(\\.(" CIPHER "))$", ".ssl.ciphers.",
     NULL},
    {"cipher_suite", "^cluster\\." TAG_VALUE "\\.ssl\\.ciphers(\\.(" CIPHER "))$", ".ssl.ciphers.",
     NULL},
    {"envoy.http_conn_manager_prefix", "^listener\\..*?\\.http\\.((" TAG_VALUE ")\\.)", ".http.",
     NULL},
    {"envoy.worker_id",
     "^(?:listener\\.(?:" ADDRESS "|" TAG_VALUE
     ")\\.|server\\.|listener_manager\\.)worker_((\\d+)\\.)",
     /* not Envoy's, but a match needs this literal: it only saves an RE2 call per name */
     "worker_", NULL},
    {"envoy.listener_address", "^listener\\.((" ADDRESS "|" TAG_VALUE ")\\.)", NULL, "admin"},
    {"envoy.rds_route_config", "^http\\." TAG_VALUE "\\.rds\\.((" ROUTE_CONFIG_NAME ")\\.)\\w+?$",
     ".rds.", NULL},
};

static const struct {
    const char *name;
    const char *tokens;
} default_tokens[] = {
    {"envoy.mongo_callsite", "mongo.*.collection.*.callsite.$.query.**"},
    {"envoy.mongo_collection", "mongo.*.collection.$.**.query.*"},
    {"envoy.mongo_cmd", "mongo.*.cmd.$.**"},
    {"envoy.grpc_bridge_method", "cluster.*.grpc.*.$.**"},
    {"envoy.http_user_agent", "http.*.user_agent.$.**"},
    {"envoy.virtual_cluster", "vhost.*.vcluster.$.**"},
    {"envoy.fault_downstream_cluster", "http.*.fault.$.**"},
    {"envoy.grpc_bridge_service", "cluster.*.grpc.$.**"},
    {"envoy.tcp_prefix", "tcp.$.**"},
    {"envoy.udp_prefix", "udp.$.**"},
    {"envoy.clientssl_prefix", "auth.clientssl.$.**"},
    {"envoy.ratelimit_prefix", "ratelimit.$.**"},
    {"envoy.cluster_name", "cluster.$.**"},
    {"envoy.http_conn_manager_prefix", "http.$.**"},
    {"envoy.virtual_host", "vhost.$.**"},
    {"envoy.mongo_prefix", "mongo.$.**"},
    {"envoy.route", "vhost.*.route.$.**"},
    {"envoy.thrift_prefix", "thrift.$.**"},
    {"envoy.redis_prefix", "redis.$.**"},
    {"envoy.local_http_ratelimit_prefix", "$.http_local_rate_limit.**"},
    {"envoy.local_network_ratelimit_prefix", "local_rate_limit.$.**"},
};

#define N_DEFAULT_RE2 (sizeof(default_re2) / sizeof(default_re2[0]))
#define N_DEFAULT_TOKENS (sizeof(default_tokens) / sizeof(default_tokens[0]))

/* ---- building ---- */

static void extractor_free(struct extractor *e)
{
    free(e->name);
    or_regex_free(e->re);
    free(e->substr);
    free(e->negative);
    for (uint32_t i = 0; i < e->ntokens; i++)
        free(e->tokens[i]);
    free(e->tokens);
    free(e->value);
    free(e->prefix);
}

void or_stats__tagger_free(struct or_stats_tagger *t)
{
    if (t == NULL)
        return;
    for (size_t i = 0; i < t->n; i++)
        extractor_free(&t->ex[i]);
    free(t->ex);
    free(t);
}

void or_stats__matcher_free(struct or_stats_matcher *m)
{
    if (m == NULL)
        return;
    for (size_t i = 0; i < m->n; i++) {
        free(m->pats[i].value);
        or_regex_free(m->pats[i].re);
    }
    free(m->pats);
    free(m);
}

static char *dup_or_null(const char *s)
{
    return s != NULL ? strdup(s) : NULL;
}

/* Envoy's TagExtractorImplBase::extractRegexPrefix: "^word\." (or "^word(?=\.)", or "^word$")
 * gives "word". */
static char *regex_prefix(const char *re)
{
    if (re[0] != '^')
        return NULL;
    size_t len = strlen(re);
    for (size_t i = 1; i < len; i++) {
        if (isalnum((unsigned char)re[i]) || re[i] == '_')
            continue;
        if (i > 1) {
            bool last = i == len - 1;
            if ((!last && (strncmp(re + i, "\\.", 2) == 0 || strncmp(re + i, "(?=\\.)", 6) == 0)) ||
                (last && re[i] == '$'))
                return strndup(re + 1, i - 1);
        }
        return NULL;
    }
    return NULL;
}

static struct extractor *push(struct or_stats_tagger *t)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        struct extractor *n = realloc(t->ex, cap * sizeof(*n));
        if (n == NULL)
            return NULL;
        t->ex = n;
        t->cap = cap;
    }
    struct extractor *e = &t->ex[t->n];
    memset(e, 0, sizeof(*e));
    return e;
}

static int add_regex(struct or_stats_tagger *t, const char *name, const char *regex,
                     const char *substr, const char *negative, enum ex_kind kind,
                     struct or_err_detail *err)
{
    struct extractor *e = push(t);
    if (e == NULL)
        return OR_ENOMEM;
    e->kind = kind;
    e->name = strdup(name);
    e->re = or_regex_compile_ex(regex, strlen(regex), OR_REGEX_NO_PROGRAM_SIZE_LIMIT, false, err);
    if (e->re == NULL) {
        extractor_free(e);
        return OR_EINVAL;
    }
    e->substr = substr != NULL && substr[0] != '\0' ? strdup(substr) : NULL;
    e->negative = dup_or_null(negative);
    e->prefix = regex_prefix(regex);
    if (e->name == NULL || (substr != NULL && substr[0] != '\0' && e->substr == NULL) ||
        (negative != NULL && e->negative == NULL)) {
        extractor_free(e);
        return OR_ENOMEM;
    }
    t->n++;
    return 0;
}

static int add_tokens(struct or_stats_tagger *t, const char *name, const char *pattern)
{
    struct extractor *e = push(t);
    if (e == NULL)
        return OR_ENOMEM;
    e->kind = EX_TOKENS;
    e->name = strdup(name);
    if (e->name == NULL)
        goto fail;
    uint32_t n = 1;
    for (const char *p = pattern; *p != '\0'; p++)
        n += *p == '.';
    e->tokens = calloc(n, sizeof(*e->tokens));
    if (e->tokens == NULL)
        goto fail;
    const char *start = pattern;
    for (uint32_t i = 0; i < n; i++) {
        const char *dot = strchr(start, '.');
        size_t len = dot ? (size_t)(dot - start) : strlen(start);
        e->tokens[i] = strndup(start, len);
        if (e->tokens[i] == NULL)
            goto fail;
        e->ntokens++;
        if (strcmp(e->tokens[i], "$") == 0)
            e->match_index = i;
        start += len + 1;
    }
    const char *first = e->tokens[0];
    if (strcmp(first, "$") != 0 && strcmp(first, "*") != 0 && strcmp(first, "**") != 0) {
        e->prefix = strdup(first);
        if (e->prefix == NULL)
            goto fail;
    }
    t->n++;
    return 0;
fail:
    extractor_free(e);
    return OR_ENOMEM;
}

static int add_fixed(struct or_stats_tagger *t, const char *name, const char *value)
{
    struct extractor *e = push(t);
    if (e == NULL)
        return OR_ENOMEM;
    e->kind = EX_FIXED;
    e->name = strdup(name);
    e->value = strdup(value);
    /* Envoy computes the "regex prefix" of the fixed value too (harmless unless it starts with
     * '^'). */
    e->prefix = regex_prefix(value);
    if (e->name == NULL || e->value == NULL) {
        extractor_free(e);
        return OR_ENOMEM;
    }
    t->n++;
    return 0;
}

/* Adds the default extractors named `name` (all of them when name is NULL); returns how many, or
 * a negative error. */
static int add_defaults(struct or_stats_tagger *t, const char *name, struct or_err_detail *err)
{
    int found = 0, rc;
    for (size_t i = 0; i < N_DEFAULT_RE2; i++) {
        if (name != NULL && strcmp(name, default_re2[i].name) != 0)
            continue;
        rc = add_regex(t, default_re2[i].name, default_re2[i].regex, default_re2[i].substr,
                       default_re2[i].negative, EX_RE2, err);
        if (rc != 0)
            return rc;
        found++;
    }
    for (size_t i = 0; i < N_DEFAULT_TOKENS; i++) {
        if (name != NULL && strcmp(name, default_tokens[i].name) != 0)
            continue;
        rc = add_tokens(t, default_tokens[i].name, default_tokens[i].tokens);
        if (rc != 0)
            return rc;
        found++;
    }
    return found;
}

static int matcher_new(const Envoy__Config__Metrics__V3__StatsMatcher *sm,
                       struct or_stats_matcher **out, struct or_err_detail *err)
{
    const Envoy__Type__Matcher__V3__ListStringMatcher *list = NULL;
    const char *which = NULL;
    *out = NULL;
    struct or_stats_matcher *m = calloc(1, sizeof(*m));
    if (m == NULL)
        return OR_ENOMEM;
    switch (sm->stats_matcher_case) {
    case ENVOY__CONFIG__METRICS__V3__STATS_MATCHER__STATS_MATCHER_REJECT_ALL:
        if (!sm->reject_all) {
            /* reject_all: false accepts everything. */
            free(m);
            return 0;
        }
        m->mode = 1;
        *out = m;
        return 0;
    case ENVOY__CONFIG__METRICS__V3__STATS_MATCHER__STATS_MATCHER_EXCLUSION_LIST:
        m->mode = 2;
        list = sm->exclusion_list;
        which = "exclusion_list";
        break;
    case ENVOY__CONFIG__METRICS__V3__STATS_MATCHER__STATS_MATCHER_INCLUSION_LIST:
        m->mode = 3;
        list = sm->inclusion_list;
        which = "inclusion_list";
        break;
    default:
        free(m);
        return or_err_set(err, "stats_config.stats_matcher",
                          "StatsMatcherValidationError.StatsMatcher: value is required");
    }
    if (list != NULL && list->n_patterns > 0) {
        m->pats = calloc(list->n_patterns, sizeof(*m->pats));
        if (m->pats == NULL) {
            free(m);
            return OR_ENOMEM;
        }
        for (size_t i = 0; i < list->n_patterns; i++) {
            const Envoy__Type__Matcher__V3__StringMatcher *p = list->patterns[i];
            struct string_match *sp = &m->pats[m->n];
            char path[160];
            snprintf(path, sizeof(path), "stats_config.stats_matcher.%s.patterns[%zu]", which, i);
            sp->ignore_case = p->ignore_case;
            const char *v = NULL;
            switch (p->match_pattern_case) {
            case ENVOY__TYPE__MATCHER__V3__STRING_MATCHER__MATCH_PATTERN_EXACT:
                sp->kind = 0;
                v = p->exact;
                break;
            case ENVOY__TYPE__MATCHER__V3__STRING_MATCHER__MATCH_PATTERN_PREFIX:
                sp->kind = 1;
                v = p->prefix;
                break;
            case ENVOY__TYPE__MATCHER__V3__STRING_MATCHER__MATCH_PATTERN_SUFFIX:
                sp->kind = 2;
                v = p->suffix;
                break;
            case ENVOY__TYPE__MATCHER__V3__STRING_MATCHER__MATCH_PATTERN_CONTAINS:
                sp->kind = 3;
                v = p->contains;
                break;
            case ENVOY__TYPE__MATCHER__V3__STRING_MATCHER__MATCH_PATTERN_SAFE_REGEX: {
                sp->kind = 4;
                const char *re = p->safe_regex != NULL ? p->safe_regex->regex : "";
                sp->re = or_regex_compile(re, strlen(re), err);
                if (sp->re == NULL) {
                    if (err != NULL)
                        snprintf(err->path, sizeof(err->path), "%s.safe_regex.regex", path);
                    or_stats__matcher_free(m);
                    return OR_EINVAL;
                }
                m->n++;
                continue;
            }
            default:
                or_stats__matcher_free(m);
                return or_err_set(err, path,
                                  "StringMatcherValidationError.MatchPattern: value is required");
            }
            sp->value = strdup(v != NULL ? v : "");
            if (sp->value == NULL) {
                or_stats__matcher_free(m);
                return OR_ENOMEM;
            }
            m->n++;
        }
    }
    *out = m;
    return 0;
}

int or_stats__tagger_new(const struct Envoy__Config__Metrics__V3__StatsConfig *cfg,
                         struct or_stats_tagger **tagger, struct or_stats_matcher **matcher,
                         struct or_err_detail *err)
{
    struct or_err_detail scratch;
    if (err == NULL)
        err = &scratch;
    *tagger = NULL;
    *matcher = NULL;
    struct or_stats_tagger *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return OR_ENOMEM;
    int rc;

    if (cfg == NULL || cfg->use_all_default_tags == NULL || cfg->use_all_default_tags->value) {
        rc = add_defaults(t, NULL, err);
        if (rc < 0)
            goto fail;
    }
    for (size_t i = 0; cfg != NULL && i < cfg->n_stats_tags; i++) {
        const Envoy__Config__Metrics__V3__TagSpecifier *ts = cfg->stats_tags[i];
        char path[128];
        snprintf(path, sizeof(path), "stats_config.stats_tags[%zu]", i);
        const char *name = ts->tag_name != NULL ? ts->tag_name : "";
        if (name[0] == '\0') {
            rc = or_err_set(err, path, "tag_name cannot be empty");
            goto fail;
        }
        if (ts->tag_value_case ==
            ENVOY__CONFIG__METRICS__V3__TAG_SPECIFIER__TAG_VALUE_FIXED_VALUE) {
            rc = add_fixed(t, name, ts->fixed_value != NULL ? ts->fixed_value : "");
            if (rc != 0)
                goto fail;
            continue;
        }
        const char *re =
            ts->tag_value_case == ENVOY__CONFIG__METRICS__V3__TAG_SPECIFIER__TAG_VALUE_REGEX &&
                    ts->regex != NULL
                ? ts->regex
                : "";
        if (re[0] == '\0') {
            /* No regex: Envoy falls back to the default extractors of that name. */
            rc = add_defaults(t, name, err);
            if (rc < 0)
                goto fail;
            if (rc == 0) {
                rc = or_err_set(err, path,
                                "No regex specified for tag specifier and no default regex for "
                                "name: '%s'",
                                name);
                goto fail;
            }
            continue;
        }
        if (strlen(re) > 1024) {
            rc = or_err_set(err, path,
                            "TagSpecifierValidationError.Regex: value length must be at most "
                            "1024 bytes");
            goto fail;
        }
        char detail[sizeof(err->msg)];
        rc = add_regex(t, name, re, NULL, NULL, EX_STD, err);
        if (rc == OR_EINVAL) {
            snprintf(detail, sizeof(detail), "%s", err->msg);
            snprintf(err->path, sizeof(err->path), "%s.regex", path);
            snprintf(err->msg, sizeof(err->msg), "Invalid regex '%s': %s", re, detail);
            goto fail;
        }
        if (rc != 0)
            goto fail;
    }

    /* Tag names shared by several extractors: only the first match counts. */
    for (size_t i = 0; i < t->n; i++)
        for (size_t j = i + 1; j < t->n; j++)
            if (strcmp(t->ex[i].name, t->ex[j].name) == 0)
                t->ex[i].dup_name = t->ex[j].dup_name = true;

    if (cfg != NULL && cfg->stats_matcher != NULL) {
        rc = matcher_new(cfg->stats_matcher, matcher, err);
        if (rc != 0)
            goto fail;
    }
    *tagger = t;
    return 0;
fail:
    or_stats__tagger_free(t);
    return rc;
}

/* ---- applying ---- */

/* A removal range [start, end). */
struct range {
    size_t start;
    size_t end;
};

struct apply_ctx {
    const char *name; /* borrowed: the stat name */
    size_t len;
    struct or_str tokens[128]; /* slices of name split on '.' (split on first use) */
    uint32_t ntokens;
    bool split;
    bool overflow; /* more than 128 tokens: token extractors do not run */
    struct range ranges[64];
    size_t nranges;
    const char *tag_names[64];    /* borrowed from the extractors */
    struct or_str tag_values[64]; /* slices of name or of a fixed value */
    size_t ntags;
    const char *done[64]; /* borrowed: tag names with dup_name that already matched */
    size_t ndone;
};

static void split_tokens(struct apply_ctx *c)
{
    if (c->split)
        return;
    c->split = true;
    const char *p = c->name, *end = c->name + c->len;
    for (;;) {
        const char *dot = memchr(p, '.', (size_t)(end - p));
        size_t len = dot ? (size_t)(dot - p) : (size_t)(end - p);
        if (c->ntokens == sizeof(c->tokens) / sizeof(c->tokens[0])) {
            c->overflow = true;
            return;
        }
        c->tokens[c->ntokens++] = or_str_make(p, len);
        if (dot == NULL)
            break;
        p = dot + 1;
    }
}

/* Envoy's TagExtractorTokensImpl::searchTags. `start` receives the character offset of the value
 * token, `match` its token index. */
static bool search_tokens(const struct extractor *e, const struct apply_ctx *c, uint32_t in,
                          uint32_t pat, size_t chr, size_t *start, uint32_t *match)
{
    for (; in < c->ntokens && pat < e->ntokens; in++, pat++) {
        if (pat == e->match_index) {
            *start = chr;
            *match = in;
            chr += c->tokens[in].len + 1;
            continue;
        }
        const char *want = e->tokens[pat];
        if (strcmp(want, "**") == 0) {
            if (pat == e->ntokens - 1)
                return true; /* a trailing "**" takes whatever is left */
            for (; in < c->ntokens; in++) {
                if (search_tokens(e, c, in, pat + 1, chr, start, match))
                    return true;
                chr += c->tokens[in].len + 1;
            }
            return false;
        }
        if (strcmp(want, "*") != 0 && !or_str_eq_lit(c->tokens[in], want))
            return false;
        chr += c->tokens[in].len + 1;
    }
    return pat == e->ntokens && in == c->ntokens;
}

static bool tag_done(const struct apply_ctx *c, const char *name)
{
    for (size_t i = 0; i < c->ndone; i++)
        if (strcmp(c->done[i], name) == 0)
            return true;
    return false;
}

static void add_tag(struct apply_ctx *c, const struct extractor *e, struct or_str value,
                    size_t start, size_t end)
{
    if (c->ntags < sizeof(c->tag_names) / sizeof(c->tag_names[0])) {
        c->tag_names[c->ntags] = e->name;
        c->tag_values[c->ntags] = value;
        c->ntags++;
    }
    if (end > start && c->nranges < sizeof(c->ranges) / sizeof(c->ranges[0]))
        c->ranges[c->nranges++] = (struct range){start, end};
}

static bool run_extractor(const struct extractor *e, struct apply_ctx *c)
{
    if (e->substr != NULL && memmem(c->name, c->len, e->substr, strlen(e->substr)) == NULL)
        return false;
    switch (e->kind) {
    case EX_FIXED:
        add_tag(c, e, or_str_cstr(e->value), 0, 0);
        return true;
    case EX_TOKENS: {
        split_tokens(c);
        if (c->overflow)
            return false;
        size_t start = 0;
        uint32_t match = c->ntokens;
        if (!search_tokens(e, c, 0, 0, 0, &start, &match) || match >= c->ntokens)
            return false;
        struct or_str v = c->tokens[match];
        size_t end = start + v.len;
        if (match + 1 < c->ntokens)
            end++; /* "ab." / "cd." : the dot after the token */
        else if (start > 0)
            start--; /* ".ef" at the end: the dot before it */
        add_tag(c, e, v, start, end);
        return true;
    }
    case EX_RE2:
    case EX_STD: {
        struct or_str g[3] = {OR_STR_NULL, OR_STR_NULL, OR_STR_NULL};
        int ncap = or_regex_capture_count(e->re);
        if (ncap < 1)
            return false;
        unsigned n = ncap >= 2 ? 3 : 2;
        if (!or_regex_match_groups(e->re, c->name, c->len, false, g, n))
            return false;
        struct or_str remove = g[1], value;
        if (e->kind == EX_RE2) {
            if (remove.ptr == NULL || remove.len == 0)
                return false;
            value = g[2].len != 0 ? g[2] : remove;
        } else {
            value = ncap >= 2 ? g[2] : remove;
        }
        if (value.ptr == NULL)
            value = or_str_make("", 0);
        if (e->negative != NULL && or_str_eq_lit(value, e->negative))
            return false;
        size_t start = remove.ptr != NULL ? (size_t)(remove.ptr - c->name) : 0;
        add_tag(c, e, value, start, remove.ptr != NULL ? start + remove.len : 0);
        return true;
    }
    }
    return false;
}

static void run_one(const struct extractor *e, struct apply_ctx *c)
{
    if (e->dup_name && tag_done(c, e->name))
        return;
    if (run_extractor(e, c) && e->dup_name && c->ndone < sizeof(c->done) / sizeof(c->done[0]))
        c->done[c->ndone++] = e->name;
}

int or_stats__tagger_apply(const struct or_stats_tagger *t, struct or_stats_store *st,
                           const char *name, size_t len, uint32_t *tx, uint32_t *tags)
{
    /* Not zeroed: only the counters need a start value. */
    struct apply_ctx c;
    c.name = name;
    c.len = len;
    c.ntokens = 0;
    c.split = false;
    c.overflow = false;
    c.nranges = 0;
    c.ntags = 0;
    c.ndone = 0;

    /* Extractors without a prefix first, then those whose prefix is the first token. */
    for (size_t i = 0; t != NULL && i < t->n; i++)
        if (t->ex[i].prefix == NULL)
            run_one(&t->ex[i], &c);
    const char *dot = memchr(name, '.', len);
    if (dot != NULL) {
        struct or_str first = or_str_make(name, (size_t)(dot - name));
        for (size_t i = 0; t != NULL && i < t->n; i++)
            if (t->ex[i].prefix != NULL && or_str_eq_lit(first, t->ex[i].prefix))
                run_one(&t->ex[i], &c);
    }

    char buf[512];
    char *out = len < sizeof(buf) ? buf : malloc(len + 1);
    if (out == NULL)
        return OR_ENOMEM;
    size_t n = 0;
    if (c.nranges == 0) {
        memcpy(out, name, len);
        n = len;
    } else {
        for (size_t i = 0; i < len; i++) {
            bool removed = false;
            for (size_t r = 0; r < c.nranges && !removed; r++)
                removed = i >= c.ranges[r].start && i < c.ranges[r].end;
            if (!removed)
                out[n++] = name[i];
        }
    }
    uint32_t txid = or_stats__str_intern(st, out, n);
    if (out != buf)
        free(out);
    if (txid == 0)
        return OR_ENOMEM;
    const char *names[64], *values[64];
    for (size_t i = 0; i < c.ntags; i++) {
        uint32_t nid = or_stats__str_intern(st, c.tag_names[i], strlen(c.tag_names[i]));
        uint32_t vid = or_stats__str_intern(st, c.tag_values[i].ptr ? c.tag_values[i].ptr : "",
                                            c.tag_values[i].len);
        if (nid == 0 || vid == 0)
            return OR_ENOMEM;
        /* Looked up after both interns: interning may move the id table, never the strings. */
        names[i] = or_stats__str(st, nid)->s;
        values[i] = or_stats__str(st, vid)->s;
    }
    uint32_t set = or_stats__tagset_intern(st, names, values, (uint32_t)c.ntags);
    if (set == 0)
        return OR_ENOMEM;
    *tx = txid;
    *tags = set;
    return 0;
}

/* ---- stats matcher ---- */

static bool string_match(const struct string_match *m, const char *s)
{
    size_t slen = strlen(s), vlen = m->value != NULL ? strlen(m->value) : 0;
    int (*cmp)(const char *, const char *, size_t) = m->ignore_case ? strncasecmp : strncmp;
    switch (m->kind) {
    case 0:
        return slen == vlen && cmp(s, m->value, vlen) == 0;
    case 1:
        return slen >= vlen && cmp(s, m->value, vlen) == 0;
    case 2:
        return slen >= vlen && cmp(s + slen - vlen, m->value, vlen) == 0;
    case 3:
        if (vlen == 0)
            return true;
        for (size_t i = 0; i + vlen <= slen; i++)
            if (cmp(s + i, m->value, vlen) == 0)
                return true;
        return false;
    case 4:
        return or_regex_full_match(m->re, s, slen);
    }
    return false;
}

bool or_stats__matcher_rejects(const struct or_stats_matcher *m, const char *name)
{
    if (m == NULL)
        return false;
    bool any = false;
    for (size_t i = 0; i < m->n && !any; i++)
        any = string_match(&m->pats[i], name);
    switch (m->mode) {
    case 1:
        return true;
    case 2:
        return any;
    case 3:
        return !any;
    }
    return false;
}
