#include "proxy/http/util.h"

#include <stdio.h>
#include <time.h>

static __thread char date_buf[40];
static __thread time_t date_sec;
static __thread size_t date_len;

struct or_str or_http_date_now(void)
{
    time_t now = time(NULL);
    if (now != date_sec || date_len == 0) {
        struct tm tm;
        gmtime_r(&now, &tm);
        date_len = strftime(date_buf, sizeof(date_buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        date_sec = now;
    }
    return or_str_make(date_buf, date_len);
}

void or_uuid4(char out[37], uint64_t r1, uint64_t r2)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    for (int i = 0; i < 8; i++) {
        b[i] = (unsigned char)(r1 >> (i * 8));
        b[8 + i] = (unsigned char)(r2 >> (i * 8));
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    int o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}
