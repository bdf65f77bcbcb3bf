/* The admin server over real sockets: the event loop runs in a thread, the test speaks HTTP/1.1
 * with a tiny blocking client. Each test ends with POST /quitquitquit, whose quit callback breaks
 * the loop, so the quit path is exercised every time. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>

#include "proxy/admin/admin.h"
#include "proxy/admin/json.h"
#include "proxy/core/err.h"
#include "proxy/server/options.h"

/* ---- fake server behind the ops ---- */

struct fake_server {
    _Atomic int state;       /* enum or_server_state, flipped by the test thread */
    _Atomic int quit_calls;  /* POST /quitquitquit reached ops->quit */
    struct event_base *base; /* borrowed */
    struct or_options opts;  /* what /server_info reports */
    char *argv[16];          /* borrowed by opts */
    bool with_metadata;      /* write node.metadata */
};

static enum or_server_state fake_state(void *ctx)
{
    struct fake_server *s = ctx;
    return (enum or_server_state)atomic_load(&s->state);
}

static uint64_t fake_uptime(void *ctx)
{
    return 6;
}

static void fake_node(void *ctx, struct or_admin_node *n)
{
    n->id = "mesh/app-node";
    n->cluster = "app-cluster";
    n->zone = "us-east-1a";
}

static void fake_metadata(void *ctx, struct or_json *w)
{
    or_json_object_begin(w);
    or_json_key(w, "aws.appmesh.mesh");
    or_json_string(w, "demo<mesh>");
    or_json_object_end(w);
}

static const struct or_options *fake_options(void *ctx)
{
    struct fake_server *s = ctx;
    return &s->opts;
}

static void fake_quit(void *ctx)
{
    struct fake_server *s = ctx;
    atomic_fetch_add(&s->quit_calls, 1);
    event_base_loopbreak(s->base);
}

static const struct or_admin_ops fake_ops = {
    .state = fake_state,
    .uptime_s = fake_uptime,
    .node = fake_node,
    .options = fake_options,
    .quit = fake_quit,
};

static const struct or_admin_ops fake_ops_meta = {
    .state = fake_state,
    .uptime_s = fake_uptime,
    .node = fake_node,
    .write_node_metadata = fake_metadata,
    .options = fake_options,
    .quit = fake_quit,
};

/* ---- fixture: admin on 127.0.0.1:0 (or a pipe), loop in a thread ---- */

struct fixture {
    struct fake_server srv;
    struct event_base *base;
    struct or_admin *admin;
    pthread_t loop;
    uint16_t port;
    char pipe_path[108]; /* set for unix socket tests */
};

static void *run_loop(void *arg)
{
    struct fixture *f = arg;
    event_base_dispatch(f->base);
    return NULL;
}

static void fixture_init(struct fixture *f, const struct or_admin_ops *ops,
                         const struct or_admin_listen *listen)
{
    static char *args[] = {"envoy",
                           "-c",
                           "/etc/envoy/envoy.yaml",
                           "--concurrency",
                           "2",
                           "--drain-time-s",
                           "20",
                           "--disable-hot-restart",
                           NULL};
    memset(f, 0, sizeof(*f));
    atomic_store(&f->srv.state, OR_SERVER_LIVE);
    assert_int_equal(or_options_parse(8, args, &f->srv.opts, NULL, 0), 0);
    f->base = event_base_new();
    assert_non_null(f->base);
    f->srv.base = f->base;

    struct or_admin_listen tcp = {.ip = "127.0.0.1", .port = 0};
    struct or_err_detail err = {{0}, {0}};
    int rc = or_admin_start(&f->admin, f->base, listen ? listen : &tcp, ops, &f->srv, &err);
    if (rc != 0)
        fail_msg("or_admin_start: %d %s: %s", rc, err.path, err.msg);
    f->port = or_admin_port(f->admin);
}

static void fixture_run(struct fixture *f)
{
    assert_int_equal(pthread_create(&f->loop, NULL, run_loop, f), 0);
}

struct reply {
    int status;
    char *head; /* status line and headers, NUL-terminated */
    char *body; /* NUL-terminated */
    size_t body_len;
};

static void reply_free(struct reply *r)
{
    free(r->head);
    free(r->body);
}

static int connect_to(const struct fixture *f)
{
    int fd;
    struct timeval tv = {10, 0};
    if (f->pipe_path[0] != '\0') {
        struct sockaddr_un sun = {.sun_family = AF_UNIX};
        socklen_t len = sizeof(sun);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (f->pipe_path[0] == '@') {
            memcpy(sun.sun_path + 1, f->pipe_path + 1, strlen(f->pipe_path) - 1);
            len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(f->pipe_path));
        } else {
            snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", f->pipe_path);
        }
        assert_int_equal(connect(fd, (struct sockaddr *)&sun, len), 0);
    } else {
        struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(f->port)};
        inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
        fd = socket(AF_INET, SOCK_STREAM, 0);
        assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    return fd;
}

/* Sends one request with Connection: close and reads the whole reply. */
static struct reply request(const struct fixture *f, const char *method, const char *target)
{
    struct reply r = {0};
    char req[1024];
    int n = snprintf(req, sizeof(req),
                     "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: test\r\nConnection: close"
                     "\r\nContent-Length: 0\r\n\r\n",
                     method, target);
    int fd = connect_to(f);
    assert_int_equal(write(fd, req, (size_t)n), n);

    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (len + 1024 > cap)
            buf = realloc(buf, cap *= 2);
        ssize_t got = read(fd, buf + len, cap - len - 1);
        assert_true(got >= 0);
        if (got == 0)
            break;
        len += (size_t)got;
    }
    close(fd);
    buf[len] = '\0';

    char *sep = strstr(buf, "\r\n\r\n");
    assert_non_null(sep);
    size_t hlen = (size_t)(sep - buf);
    r.head = strndup(buf, hlen);
    r.body_len = len - hlen - 4;
    r.body = malloc(r.body_len + 1);
    memcpy(r.body, sep + 4, r.body_len);
    r.body[r.body_len] = '\0';
    assert_int_equal(sscanf(r.head, "HTTP/1.1 %d", &r.status), 1);
    free(buf);
    return r;
}

static bool has_header(const struct reply *r, const char *line)
{
    /* Header names compared case-insensitively, values exactly. */
    const char *colon = strchr(line, ':');
    size_t nlen = (size_t)(colon - line);
    for (const char *p = strstr(r->head, "\r\n"); p != NULL; p = strstr(p + 2, "\r\n")) {
        const char *h = p + 2;
        if (strncasecmp(h, line, nlen) == 0 && h[nlen] == ':') {
            const char *v = h + nlen + 1;
            while (*v == ' ')
                v++;
            const char *end = strstr(v, "\r\n");
            size_t vlen = end ? (size_t)(end - v) : strlen(v);
            const char *want = colon + 1;
            while (*want == ' ')
                want++;
            if (vlen == strlen(want) && memcmp(v, want, vlen) == 0)
                return true;
        }
    }
    return false;
}

/* POST /quitquitquit, wait for the loop to stop, free everything. */
static void fixture_quit_and_free(struct fixture *f)
{
    struct reply r = request(f, "POST", "/quitquitquit");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "OK\n");
    reply_free(&r);
    pthread_join(f->loop, NULL);
    assert_int_equal(atomic_load(&f->srv.quit_calls), 1);
    or_admin_stop(f->admin);
    event_base_free(f->base);
}

/* ---- tests ---- */

static void test_ready(void **state)
{
    struct fixture f;
    fixture_init(&f, &fake_ops, NULL);
    assert_true(f.port != 0);
    fixture_run(&f);

    struct reply r = request(&f, "GET", "/ready");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "LIVE\n");
    assert_true(has_header(&r, "content-type: text/plain; charset=UTF-8"));
    assert_true(has_header(&r, "cache-control: no-cache, max-age=0"));
    assert_true(has_header(&r, "x-content-type-options: nosniff"));
    reply_free(&r);

    static const struct {
        enum or_server_state s;
        const char *body;
    } other[] = {{OR_SERVER_DRAINING, "DRAINING\n"},
                 {OR_SERVER_PRE_INITIALIZING, "PRE_INITIALIZING\n"},
                 {OR_SERVER_INITIALIZING, "INITIALIZING\n"}};
    for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
        atomic_store(&f.srv.state, other[i].s);
        r = request(&f, "GET", "/ready");
        assert_int_equal(r.status, 503);
        assert_string_equal(r.body, other[i].body);
        reply_free(&r);
    }

    /* Query strings do not change the match; any method works on a read-only endpoint. */
    atomic_store(&f.srv.state, OR_SERVER_LIVE);
    r = request(&f, "GET", "/ready?verbose=1");
    assert_int_equal(r.status, 200);
    reply_free(&r);
    r = request(&f, "POST", "/ready");
    assert_int_equal(r.status, 200);
    reply_free(&r);

    fixture_quit_and_free(&f);
}

/* Lines of `body` containing both needles: what `grep a | grep b` would print. */
static int count_lines_with(const char *body, const char *a, const char *b, char *first,
                            size_t firstlen)
{
    int n = 0;
    const char *p = body;
    while (*p != '\0') {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *line = strndup(p, len);
        if (strstr(line, a) != NULL && strstr(line, b) != NULL) {
            if (n == 0 && first != NULL)
                snprintf(first, firstlen, "%s", line);
            n++;
        }
        free(line);
        p += len + (nl ? 1 : 0);
    }
    return n;
}

static void test_server_info(void **state)
{
    struct fixture f;
    fixture_init(&f, &fake_ops, NULL);
    fixture_run(&f);

    struct reply r = request(&f, "GET", "/server_info");
    assert_int_equal(r.status, 200);
    assert_true(has_header(&r, "content-type: application/json"));
    const char *b = r.body;

    /* Protobuf's pretty layout: 1-space indent, field-number order, trailing newline. */
    char head[512];
    snprintf(head, sizeof(head),
             "{\n"
             " \"version\": \"%s\",\n"
             " \"state\": \"LIVE\",\n"
             " \"uptime_current_epoch\": \"6s\",\n"
             " \"uptime_all_epochs\": \"6s\",\n"
             " \"hot_restart_version\": \"disabled\",\n"
             " \"command_line_options\": {\n"
             "  \"base_id\": \"0\",\n"
             "  \"concurrency\": 2,\n"
             "  \"config_path\": \"/etc/envoy/envoy.yaml\",\n",
             or_build_version());
    if (strncmp(b, head, strlen(head)) != 0)
        fail_msg("server_info starts:\n%.600s", b);
    assert_true(r.body_len > 2 && strcmp(b + r.body_len - 3, "\n}\n") == 0);

    static const char *const lines[] = {
        "\n  \"drain_time\": \"20s\",\n",
        "\n  \"parent_shutdown_time\": \"900s\",\n",
        "\n  \"file_flush_interval\": \"10s\",\n",
        "\n  \"mode\": \"Serve\",\n",
        "\n  \"disable_hot_restart\": true,\n",
        "\n  \"log_level\": \"info\",\n",
        "\n  \"local_address_ip_version\": \"v4\",\n",
        "\n  \"drain_strategy\": \"Gradual\",\n",
        "\n  \"disabled_extensions\": [],\n",
        "\n  \"socket_path\": \"@envoy_domain_socket\",\n",
        "\n  \"skip_hot_restart_parent_stats\": false\n },\n",
        ("\n \"node\": {\n  \"id\": \"mesh/app-node\",\n  \"cluster\": \"app-cluster\",\n"
         "  \"locality\": {\n   \"region\": \"\",\n   \"zone\": \"us-east-1a\",\n"
         "   \"sub_zone\": \"\"\n  },\n  \"user_agent_name\": \"envoy\",\n"),
        ("\n  \"extensions\": [],\n  \"client_features\": [],\n  \"listening_addresses\": [],\n"
         "  \"dynamic_parameters\": {}\n }\n}\n"),
    };
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
        if (strstr(b, lines[i]) == NULL)
            fail_msg("missing %s in:\n%s", lines[i], b);

    /* The ECS/EKS health check: `grep state | grep -q LIVE` must see exactly the state line. */
    char line[256];
    assert_int_equal(count_lines_with(b, "state", "LIVE", line, sizeof(line)), 1);
    assert_string_equal(line, " \"state\": \"LIVE\",");
    reply_free(&r);

    /* DRAINING: the same pipeline finds nothing. */
    atomic_store(&f.srv.state, OR_SERVER_DRAINING);
    r = request(&f, "GET", "/server_info");
    assert_int_equal(r.status, 200);
    assert_int_equal(count_lines_with(r.body, "state", "LIVE", NULL, 0), 0);
    assert_int_equal(count_lines_with(r.body, "state", "DRAINING", line, sizeof(line)), 1);
    assert_string_equal(line, " \"state\": \"DRAINING\",");
    reply_free(&r);

    fixture_quit_and_free(&f);
}

static void test_server_info_metadata_and_escaping(void **state)
{
    struct fixture f;
    fixture_init(&f, &fake_ops_meta, NULL);
    /* Strings with JSON-special bytes, and --disable-extensions split on commas. */
    static char *args[] = {
        "envoy", "--config-yaml", "a: \"b\"\n", "--disable-extensions", "envoy.a/x,,envoy.b/y",
        "-l",    "warn",          NULL};
    assert_int_equal(or_options_parse(7, args, &f.srv.opts, NULL, 0), 0);
    fixture_run(&f);

    struct reply r = request(&f, "GET", "/server_info");
    assert_int_equal(r.status, 200);
    static const char *const want[] = {
        "\n  \"config_yaml\": \"a: \\\"b\\\"\\n\",\n",
        "\n  \"disabled_extensions\": [\n   \"envoy.a/x\",\n   \"\",\n   \"envoy.b/y\"\n  ],\n",
        "\n  \"log_level\": \"warning\",\n",
        ("\n  \"cluster\": \"app-cluster\",\n  \"metadata\": {\n   \"aws.appmesh.mesh\": "
         "\"demo\\u003cmesh\\u003e\"\n  },\n  \"locality\": {\n"),
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (strstr(r.body, want[i]) == NULL)
            fail_msg("missing %s in:\n%s", want[i], r.body);
    reply_free(&r);
    fixture_quit_and_free(&f);
}

static void test_not_found_and_post_only(void **state)
{
    struct fixture f;
    fixture_init(&f, &fake_ops, NULL);
    fixture_run(&f);

    struct reply r = request(&f, "GET", "/nope");
    assert_int_equal(r.status, 404);
    const char *expect_help =
        "invalid path. admin commands are:\n"
        "  /: Admin home page\n"
        "  /help: print out list of admin commands\n"
        "  /hot_restart_version: print the hot restart compatibility version\n"
        "  /quitquitquit (POST): exit the server\n"
        "  /ready: print server state, return 200 if LIVE, otherwise return "
        "503\n"
        "  /server_info: print server version/status information\n";
    assert_string_equal(r.body, expect_help);
    reply_free(&r);

    /* Exact match only: a prefix or a longer path is not the endpoint. */
    r = request(&f, "GET", "/read");
    assert_int_equal(r.status, 404);
    reply_free(&r);
    r = request(&f, "GET", "/ready/x");
    assert_int_equal(r.status, 404);
    reply_free(&r);

    r = request(&f, "GET", "/help");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, expect_help + strlen("invalid path. "));
    reply_free(&r);

    r = request(&f, "GET", "/quitquitquit");
    assert_int_equal(r.status, 405);
    assert_string_equal(r.body, "Method GET not allowed, POST required.");
    reply_free(&r);
    r = request(&f, "PUT", "/quitquitquit");
    assert_int_equal(r.status, 405);
    assert_string_equal(r.body, "Method PUT not allowed, POST required.");
    reply_free(&r);
    assert_int_equal(atomic_load(&f.srv.quit_calls), 0);

    r = request(&f, "GET", "/hot_restart_version");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "disabled");
    reply_free(&r);

    fixture_quit_and_free(&f);
}

/* A later endpoint registers itself and reads its query. */
static int echo_handler(struct or_admin_request *req, struct evbuffer *out, void *ctx)
{
    char v[64];
    ssize_t n = or_admin_query_get(req, "filter", v, sizeof(v));
    evbuffer_add_printf(out, "%s|%s|%zd|%s|%d", req->method, n >= 0 ? v : "-", n,
                        or_admin_query_has(req, "usedonly") ? "usedonly" : "", *(int *)ctx);
    req->content_type = OR_ADMIN_CT_JSON;
    return 201;
}

static int bad_status_handler(struct or_admin_request *req, struct evbuffer *out, void *ctx)
{
    evbuffer_add_printf(out, "partial");
    return 42;
}

static void test_custom_handlers(void **state)
{
    static int cookie = 7;
    static const char *const formats[] = {"text", "json", NULL};
    static const struct or_admin_param params[] = {
        {"filter", "Regular expression (Google re2) for filtering stats", NULL},
        {"format", "File format to use", formats},
        {NULL, NULL, NULL},
    };
    struct fixture f;
    fixture_init(&f, &fake_ops, NULL);
    struct or_admin_handler h = {.path = "/echo",
                                 .help = "echo the query",
                                 .cb = echo_handler,
                                 .ctx = &cookie,
                                 .params = params};
    assert_int_equal(or_admin_add_handler(f.admin, &h), 0);
    assert_int_equal(or_admin_add_handler(f.admin, &h), OR_EINVAL); /* duplicate */
    struct or_admin_handler bad = h;
    bad.path = "echo";
    assert_int_equal(or_admin_add_handler(f.admin, &bad), OR_EINVAL);
    bad.path = "/a?b";
    assert_int_equal(or_admin_add_handler(f.admin, &bad), OR_EINVAL);
    bad.path = "/a<b>";
    assert_int_equal(or_admin_add_handler(f.admin, &bad), OR_EINVAL);
    bad.path = "/mutate";
    bad.flags = OR_ADMIN_F_MUTATES;
    bad.params = NULL;
    assert_int_equal(or_admin_add_handler(f.admin, &bad), 0);
    struct or_admin_handler odd = {.path = "/odd", .help = "bad status", .cb = bad_status_handler};
    assert_int_equal(or_admin_add_handler(f.admin, &odd), 0);
    assert_int_equal(or_admin_add_handler(f.admin, &odd), OR_EINVAL);
    assert_int_equal(or_admin_remove_handler(f.admin, "/odd"), 0);
    assert_int_equal(or_admin_remove_handler(f.admin, "/odd"), OR_ENOTFOUND);
    assert_int_equal(or_admin_add_handler(f.admin, &odd), 0);
    fixture_run(&f);

    struct reply r = request(&f, "GET", "/echo?usedonly&filter=cluster%2Eupstream_rq%3F+x");
    assert_int_equal(r.status, 201);
    assert_true(has_header(&r, "content-type: application/json"));
    assert_string_equal(r.body, "GET|cluster.upstream_rq?+x|22|usedonly|7");
    reply_free(&r);

    r = request(&f, "GET", "/echo?filter=&x=1");
    assert_string_equal(r.body, "GET||0||7");
    reply_free(&r);
    r = request(&f, "GET", "/echo");
    assert_string_equal(r.body, "GET|-|-6||7");
    reply_free(&r);

    r = request(&f, "POST", "/mutate?filter=a");
    assert_int_equal(r.status, 201);
    assert_string_equal(r.body, "POST|a|1||7");
    reply_free(&r);
    r = request(&f, "DELETE", "/mutate");
    assert_int_equal(r.status, 405);
    reply_free(&r);

    r = request(&f, "GET", "/odd");
    assert_int_equal(r.status, 500);
    assert_string_equal(r.body, "internal error\n");
    reply_free(&r);

    r = request(&f, "GET", "/help");
    assert_non_null(strstr(r.body, "  /echo: echo the query\n"
                                   "      filter: Regular expression (Google re2) for filtering "
                                   "stats\n"
                                   "      format: File format to use; One of (text, json)\n"
                                   "  /help: "));
    assert_non_null(strstr(r.body, "  /mutate (POST): echo the query\n  /odd: bad status\n"));
    reply_free(&r);

    fixture_quit_and_free(&f);
}

static void test_query_helpers(void **state)
{
    struct or_str cur = OR_STR_LIT("a=1&&b&c=x=y&=v"), k, v;
    assert_true(or_admin_query_next(&cur, &k, &v));
    assert_true(or_str_eq_lit(k, "a") && or_str_eq_lit(v, "1"));
    assert_true(or_admin_query_next(&cur, &k, &v));
    assert_true(or_str_eq_lit(k, "b") && v.len == 0);
    assert_true(or_admin_query_next(&cur, &k, &v));
    assert_true(or_str_eq_lit(k, "c") && or_str_eq_lit(v, "x=y"));
    assert_true(or_admin_query_next(&cur, &k, &v));
    assert_true(k.len == 0 && or_str_eq_lit(v, "v"));
    assert_false(or_admin_query_next(&cur, &k, &v));

    char out[8], big[16];
    assert_int_equal(or_admin_url_decode(OR_STR_LIT("a%20b%zz%4"), big, sizeof(big)), 8);
    assert_string_equal(big, "a b%zz%4");
    assert_int_equal(or_admin_url_decode(OR_STR_LIT("%41%4a+"), out, sizeof(out)), 3);
    assert_string_equal(out, "AJ+");
    assert_int_equal(or_admin_url_decode(OR_STR_LIT("12345678"), out, sizeof(out)), OR_ETOOBIG);
    assert_int_equal(or_admin_url_decode(OR_STR_LIT("1234567"), out, sizeof(out)), 7);
}

static void test_unix_socket(void **state)
{
    char dir[] = "/tmp/or_admin_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[108];
    snprintf(path, sizeof(path), "%s/admin.sock", dir);

    /* A stale socket file is replaced, as Envoy does. */
    int stale = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    assert_int_equal(bind(stale, (struct sockaddr *)&sun, sizeof(sun)), 0);
    close(stale);

    struct or_admin_listen l = {.pipe_path = path, .pipe_mode = 0600};
    struct fixture f;
    fixture_init(&f, &fake_ops, &l);
    snprintf(f.pipe_path, sizeof(f.pipe_path), "%s", path);
    assert_int_equal(or_admin_port(f.admin), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);

    char addr[128];
    or_admin_address(f.admin, addr, sizeof(addr));
    assert_string_equal(addr, path);
    fixture_run(&f);

    struct reply r = request(&f, "GET", "/ready");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, "LIVE\n");
    reply_free(&r);
    fixture_quit_and_free(&f);

    /* Stopping removes the socket file. */
    assert_int_equal(stat(path, &st), -1);
    rmdir(dir);
}

static void test_abstract_socket(void **state)
{
    char name[64];
    snprintf(name, sizeof(name), "@or_admin_test_%d", (int)getpid());
    struct or_admin_listen l = {.pipe_path = name};
    struct fixture f;
    fixture_init(&f, &fake_ops, &l);
    snprintf(f.pipe_path, sizeof(f.pipe_path), "%s", name);
    char addr[128];
    or_admin_address(f.admin, addr, sizeof(addr));
    assert_string_equal(addr, name);
    fixture_run(&f);
    struct reply r = request(&f, "GET", "/ready");
    assert_int_equal(r.status, 200);
    reply_free(&r);
    fixture_quit_and_free(&f);
}

static void test_start_errors_and_address(void **state)
{
    struct fixture f;
    fixture_init(&f, &fake_ops, NULL);

    char addr[64], expect[64];
    snprintf(expect, sizeof(expect), "127.0.0.1:%u", f.port);
    or_admin_address(f.admin, addr, sizeof(addr));
    assert_string_equal(addr, expect);

    /* --admin-address-path: the address, no newline. */
    char file[] = "/tmp/or_admin_addr_XXXXXX";
    int fd = mkstemp(file);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(or_admin_write_address_file(f.admin, file), 0);
    FILE *fp = fopen(file, "r");
    char got[64] = {0};
    assert_non_null(fgets(got, sizeof(got), fp));
    fclose(fp);
    unlink(file);
    assert_string_equal(got, expect);

    /* Same port again: bind fails with Envoy's message. */
    struct or_admin *second = NULL;
    struct or_err_detail err = {{0}, {0}};
    struct or_admin_listen same = {.ip = "127.0.0.1", .port = f.port};
    assert_int_equal(or_admin_start(&second, f.base, &same, &fake_ops, &f.srv, &err), OR_ESYS);
    assert_null(second);
    char want[96];
    snprintf(want, sizeof(want), "cannot bind '127.0.0.1:%u': Address already in use", f.port);
    assert_string_equal(err.msg, want);
    assert_string_equal(err.path, "admin.address");

    struct or_admin_listen bad = {.ip = "localhost", .port = 0};
    assert_int_equal(or_admin_start(&second, f.base, &bad, &fake_ops, &f.srv, &err), OR_EINVAL);
    assert_string_equal(err.msg, "malformed IP address: localhost");

    struct or_admin_ops no_state = {0};
    struct or_admin_listen ok = {.ip = "127.0.0.1"};
    assert_int_equal(or_admin_start(&second, f.base, &ok, &no_state, NULL, &err), OR_EINVAL);

    /* IPv6 loopback, when the host has it. */
    struct or_admin_listen v6 = {.ip = "::1", .port = 0};
    if (or_admin_start(&second, f.base, &v6, &fake_ops, &f.srv, &err) == 0) {
        snprintf(expect, sizeof(expect), "[::1]:%u", or_admin_port(second));
        or_admin_address(second, addr, sizeof(addr));
        assert_string_equal(addr, expect);
        or_admin_stop(second);
    }
    or_admin_stop(NULL);

    fixture_run(&f);
    fixture_quit_and_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ready),
        cmocka_unit_test(test_server_info),
        cmocka_unit_test(test_server_info_metadata_and_escaping),
        cmocka_unit_test(test_not_found_and_post_only),
        cmocka_unit_test(test_custom_handlers),
        cmocka_unit_test(test_query_helpers),
        cmocka_unit_test(test_unix_socket),
        cmocka_unit_test(test_abstract_socket),
        cmocka_unit_test(test_start_errors_and_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
