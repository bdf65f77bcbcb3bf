/* libFuzzer target: arbitrary bytes as a YAML/JSON Bootstrap through the reflection loader.
 * Accepted configs must also survive the round trip the admin and xDS code rely on: to JSON, back
 * through the loader, to the same JSON; and deep copy, merge and the wire-side checks. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/config/load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const ProtobufCMessageDescriptor *d = &envoy__config__bootstrap__v3__bootstrap__descriptor;
    struct or_err_detail err;
    ProtobufCMessage *m = NULL, *again = NULL, *copy = NULL;
    char *json = NULL, *json2 = NULL;
    size_t len = 0, len2 = 0;

    memset(&err, 0, sizeof(err));
    if (or_config_parse((const char *)data, size, d, &m, &err) != 0) {
        /* A rejected config must say why. */
        if (err.msg[0] == '\0' || m != NULL)
            abort();
        return 0;
    }
    if (or_config_to_json(m, (size & 1) != 0, &json, &len) != 0)
        abort();
    if (or_config_parse(json, len, d, &again, &err) != 0)
        abort();
    if (or_config_to_json(again, (size & 1) != 0, &json2, &len2) != 0)
        abort();
    if (len != len2 || memcmp(json, json2, len) != 0)
        abort();
    copy = or_config_dup(m);
    if (copy == NULL || or_config_merge(copy, again) != 0)
        abort();
    if (or_config_check_unknown(copy, &err, "") != 0)
        abort();
    free(json);
    free(json2);
    or_config_free(copy);
    or_config_free(again);
    or_config_free(m);
    return 0;
}
