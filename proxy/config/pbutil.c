/* proto3 JSON text forms: Duration, Timestamp, base64, shortest doubles, json_name, map detection.
 */
#include "proxy/config/pbutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/duration.pb-c.h"
#include "google/protobuf/struct.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "google/protobuf/wrappers.pb-c.h"

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Reads 1..9 fraction digits after a '.', scaled to nanoseconds. Returns chars consumed or -1. */
static int parse_nanos(const char *p, int32_t *nanos)
{
    int n = 0;
    int32_t v = 0;
    while (is_digit(p[n])) {
        if (n == 9)
            return -1;
        v = v * 10 + (p[n] - '0');
        n++;
    }
    if (n == 0)
        return -1;
    for (int i = n; i < 9; i++)
        v *= 10;
    *nanos = v;
    return n;
}

int or_pb_parse_duration(const char *s, int64_t *seconds, int32_t *nanos, const char **why)
{
    const char *p = s;
    bool neg = false;
    int64_t sec = 0;
    int32_t ns = 0;
    int digits = 0;

    *why = "expected a duration in seconds with an 's' suffix, e.g. \"1.5s\"";
    if (*p == '-') {
        neg = true;
        p++;
    }
    while (is_digit(*p)) {
        if (++digits > 12) {
            *why = "duration out of range";
            return -1;
        }
        sec = sec * 10 + (*p++ - '0');
    }
    if (digits == 0)
        return -1;
    if (*p == '.') {
        int n = parse_nanos(p + 1, &ns);
        if (n < 0)
            return -1;
        p += 1 + n;
    }
    if (p[0] != 's' || p[1] != '\0')
        return -1;
    if (sec > OR_PB_DURATION_MAX_SECONDS) {
        *why = "duration out of range";
        return -1;
    }
    *seconds = neg ? -sec : sec;
    *nanos = neg ? -ns : ns;
    return 0;
}

static void format_nanos(int32_t nanos, char *buf, size_t len)
{
    if (nanos == 0)
        buf[0] = '\0';
    else if (nanos % 1000000 == 0)
        snprintf(buf, len, ".%03d", nanos / 1000000);
    else if (nanos % 1000 == 0)
        snprintf(buf, len, ".%06d", nanos / 1000);
    else
        snprintf(buf, len, ".%09d", nanos);
}

void or_pb_format_duration(int64_t seconds, int32_t nanos, char *buf, size_t len)
{
    char frac[16];
    bool neg = seconds < 0 || nanos < 0;
    unsigned long long s =
        seconds < 0 ? (unsigned long long)(-(seconds + 1)) + 1 : (unsigned long long)seconds;
    format_nanos(nanos < 0 ? -nanos : nanos, frac, sizeof(frac));
    snprintf(buf, len, "%s%llu%ss", neg ? "-" : "", s, frac);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int fixed_digits(const char *p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!is_digit(p[i]))
            return -1;
        v = v * 10 + (p[i] - '0');
    }
    return v;
}

int or_pb_parse_timestamp(const char *s, int64_t *seconds, int32_t *nanos, const char **why)
{
    static const unsigned mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int32_t ns = 0;
    int off = 0;

    *why = "expected an RFC 3339 timestamp, e.g. \"1972-01-01T10:00:20.021Z\"";
    if (strlen(s) < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
        s[13] != ':' || s[16] != ':')
        return -1;
    int y = fixed_digits(s, 4), mo = fixed_digits(s + 5, 2), d = fixed_digits(s + 8, 2);
    int h = fixed_digits(s + 11, 2), mi = fixed_digits(s + 14, 2), sec = fixed_digits(s + 17, 2);
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 ||
        sec > 59 || (unsigned)d > mdays[mo - 1])
        return -1;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return -1;
    const char *p = s + 19;
    if (*p == '.') {
        int n = parse_nanos(p + 1, &ns);
        if (n < 0)
            return -1;
        p += 1 + n;
    }
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        off = 0;
    } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
        int oh = fixed_digits(p + 1, 2), om = fixed_digits(p + 4, 2);
        if (oh < 0 || oh > 23 || om < 0 || om > 59)
            return -1;
        off = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
    } else {
        return -1;
    }
    int64_t t = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec;
    t -= off;
    if (t < OR_PB_TIMESTAMP_MIN_SECONDS || t > OR_PB_TIMESTAMP_MAX_SECONDS) {
        *why = "timestamp out of range";
        return -1;
    }
    *seconds = t;
    *nanos = ns;
    return 0;
}

int or_pb_format_timestamp(int64_t seconds, int32_t nanos, char *buf, size_t len)
{
    if (seconds < OR_PB_TIMESTAMP_MIN_SECONDS || seconds > OR_PB_TIMESTAMP_MAX_SECONDS ||
        nanos < 0 || nanos > 999999999)
        return -1;
    int64_t days = seconds / 86400, rem = seconds % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int64_t y;
    unsigned m, d;
    char frac[16];
    civil_from_days(days, &y, &m, &d);
    format_nanos(nanos, frac, sizeof(frac));
    snprintf(buf, len, "%04lld-%02u-%02uT%02d:%02d:%02d%sZ", (long long)y, m, d, (int)(rem / 3600),
             (int)(rem / 60 % 60), (int)(rem % 60), frac);
    return 0;
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

uint8_t *or_pb_base64_decode(const char *s, size_t len, size_t *out_len, bool *bad)
{
    *bad = false;
    if (len % 4 == 0 && len >= 2 && s[len - 1] == '=') {
        len--;
        if (s[len - 1] == '=')
            len--;
    }
    if (len % 4 == 1) {
        *bad = true;
        return NULL;
    }
    uint8_t *out = malloc(len / 4 * 3 + 3);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64val(s[i]);
        if (v < 0) {
            free(out);
            *bad = true;
            return NULL;
        }
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    *out_len = o;
    return out;
}

char *or_pb_base64_encode(const uint8_t *data, size_t len)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *out = malloc((len + 2) / 3 * 4 + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0, i = 0;
    for (; i + 2 < len; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
        out[o++] = tbl[v >> 18];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = tbl[(v >> 6) & 63];
        out[o++] = tbl[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)data[i] << 16 | (i + 1 < len ? (uint32_t)data[i + 1] << 8 : 0);
        out[o++] = tbl[v >> 18];
        out[o++] = tbl[(v >> 12) & 63];
        out[o++] = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    return out;
}

/* protobuf's SimpleDtoa/SimpleFtoa: DBL_DIG (FLT_DIG) digits when that reads back exactly, else
 * the full 17 (9), so output matches Envoy's JSON byte for byte. */
void or_pb_format_double(double v, char *buf, size_t len)
{
    snprintf(buf, len, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, len, "%.17g", v);
}

void or_pb_format_float(float v, char *buf, size_t len)
{
    snprintf(buf, len, "%.6g", (double)v);
    if (strtof(buf, NULL) != v)
        snprintf(buf, len, "%.9g", (double)v);
}

void or_pb_json_name(const char *name, char *buf, size_t len)
{
    size_t o = 0;
    bool up = false;
    for (const char *p = name; *p != '\0' && o + 1 < len; p++) {
        if (*p == '_') {
            up = true;
            continue;
        }
        buf[o++] = up && *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
        up = false;
    }
    buf[o] = '\0';
}

bool or_pb_is_map_field(const ProtobufCFieldDescriptor *f)
{
    if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE)
        return false;
    const ProtobufCMessageDescriptor *d = f->descriptor;
    if (d->n_fields != 2 || d->fields[0].id != 1 || d->fields[1].id != 2 ||
        strcmp(d->fields[0].name, "key") != 0 || strcmp(d->fields[1].name, "value") != 0)
        return false;
    /* protoc names the entry type after the field: "filter_metadata" -> "FilterMetadataEntry". */
    char want[256];
    size_t o = 0;
    bool up = true;
    for (const char *p = f->name; *p != '\0' && o + 6 < sizeof(want); p++) {
        if (*p == '_') {
            up = true;
            continue;
        }
        want[o++] = up && *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p;
        up = false;
    }
    memcpy(want + o, "Entry", 6);
    return strcmp(d->short_name, want) == 0;
}

bool or_pb_is_wrapper(const ProtobufCMessageDescriptor *d)
{
    return d == &google__protobuf__double_value__descriptor ||
           d == &google__protobuf__float_value__descriptor ||
           d == &google__protobuf__int64_value__descriptor ||
           d == &google__protobuf__uint64_value__descriptor ||
           d == &google__protobuf__int32_value__descriptor ||
           d == &google__protobuf__uint32_value__descriptor ||
           d == &google__protobuf__bool_value__descriptor ||
           d == &google__protobuf__string_value__descriptor ||
           d == &google__protobuf__bytes_value__descriptor;
}

bool or_pb_is_wkt_special(const ProtobufCMessageDescriptor *d)
{
    return or_pb_is_wrapper(d) || d == &google__protobuf__duration__descriptor ||
           d == &google__protobuf__timestamp__descriptor ||
           d == &google__protobuf__struct__descriptor ||
           d == &google__protobuf__value__descriptor ||
           d == &google__protobuf__list_value__descriptor ||
           d == &google__protobuf__any__descriptor;
}

size_t or_pb_elem_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_ENUM:
        return 4;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    }
    return 8;
}

static bool is_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != 0)
            return false;
    return true;
}

bool or_pb_field_is_set(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    const char *base = (const char *)m;
    const void *p = base + f->offset;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)(base + f->quantifier_offset) == f->id;
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return *(const size_t *)(base + f->quantifier_offset) > 0;
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_MESSAGE &&
        f->type != PROTOBUF_C_TYPE_STRING)
        return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
    switch (f->type) {
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(const void *const *)p != NULL;
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(const char *const *)p;
        return s != NULL && (f->label == PROTOBUF_C_LABEL_OPTIONAL || s[0] != '\0');
    }
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)p)->len > 0;
    default:
        /* -0.0 differs from 0.0 in its bits and counts as set, as in protobuf. */
        return !is_zero(p, or_pb_elem_size(f->type));
    }
}
