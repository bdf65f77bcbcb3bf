/* Bootstrap loading: file by extension, then --config-yaml merged over it (Envoy's order). */
#include "proxy/config/load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int or_config_read_file(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t n = 0, cap = 0;
    *out = NULL;
    if (f == NULL)
        return OR_ESYS;
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        errno = EISDIR;
        return OR_ESYS;
    }
    for (;;) {
        if (n + 4096 + 1 > cap) {
            size_t ncap = cap ? cap * 2 : 16384;
            char *nb = realloc(buf, ncap);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return OR_ENOMEM;
            }
            buf = nb;
            cap = ncap;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
    }
    int failed = ferror(f);
    int saved = errno;
    fclose(f);
    if (failed) {
        free(buf);
        errno = saved;
        return OR_ESYS;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Prefixes err->msg with where the text came from, keeping the field path as it is. */
static void err_source(struct or_err_detail *err, const char *source)
{
    if (err == NULL)
        return;
    char msg[sizeof(err->msg) + 512];
    snprintf(msg, sizeof(msg), "%.500s: %s", source, err->msg);
    size_t n = strlen(msg);
    if (n >= sizeof(err->msg))
        n = sizeof(err->msg) - 1;
    memcpy(err->msg, msg, n);
    err->msg[n] = '\0';
}

static int load_file(const char *path, ProtobufCMessage **out, struct or_err_detail *err)
{
    const ProtobufCMessageDescriptor *d = &envoy__config__bootstrap__v3__bootstrap__descriptor;
    char *text = NULL;
    size_t len = 0;
    int rc = or_config_read_file(path, &text, &len);
    if (rc == OR_ENOMEM) {
        or_err_set(err, "", "out of memory reading '%s'", path);
        return OR_ENOMEM;
    }
    if (rc != 0)
        return or_err_set(err, "", "unable to read config file '%s': %s", path, strerror(errno));
    if (len == 0) {
        free(text);
        return or_err_set(err, "", "config file '%s' is empty", path);
    }
    if (has_suffix(path, ".pb")) {
        ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, len, (const uint8_t *)text);
        free(text);
        if (m == NULL)
            return or_err_set(err, "", "%s: not a valid binary %s", path, d->name);
        rc = or_config_check_unknown(m, err, "");
        if (rc != 0) {
            err_source(err, path);
            or_config_free(m);
            return rc;
        }
        *out = m;
        return 0;
    }
    if (has_suffix(path, ".pb_text"))
        rc = or_err_set(err, "", "%s: text protobuf bootstraps are not supported (use YAML)", path);
    else
        rc = or_config_parse(text, len, d, out, err);
    free(text);
    if (rc != 0)
        err_source(err, path);
    return rc;
}

int or_config_load_bootstrap(const char *path, const char *yaml_override,
                             Envoy__Config__Bootstrap__V3__Bootstrap **out,
                             struct or_err_detail *err)
{
    const ProtobufCMessageDescriptor *d = &envoy__config__bootstrap__v3__bootstrap__descriptor;
    ProtobufCMessage *base = NULL, *over = NULL;
    bool have_path = path != NULL && path[0] != '\0';
    bool have_yaml = yaml_override != NULL && yaml_override[0] != '\0';
    int rc;

    *out = NULL;
    if (!have_path && !have_yaml)
        return or_err_set(err, "", "at least one of --config-path or --config-yaml must be given");
    if (have_path) {
        rc = load_file(path, &base, err);
        if (rc != 0)
            return rc;
    }
    if (have_yaml) {
        rc = or_config_parse(yaml_override, strlen(yaml_override), d, &over, err);
        if (rc != 0) {
            err_source(err, "--config-yaml");
            goto fail_base;
        }
        if (base == NULL) {
            base = over;
            over = NULL;
        } else {
            rc = or_config_merge(base, over);
            or_config_free(over);
            if (rc != 0) {
                or_err_set(err, "", "out of memory merging --config-yaml");
                goto fail_base;
            }
        }
    }
    *out = (Envoy__Config__Bootstrap__V3__Bootstrap *)base;
    return 0;

fail_base:
    or_config_free(base);
    return rc;
}
