/* or_config_pack <message full name> <yaml file>: loads the file with Outrider's config loader and
 * writes the message as binary protobuf to stdout, so tests can decode it with the real Envoy
 * protos. Exit 1 with the error on stderr when the config is rejected. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/config/load.h"

int main(int argc, char **argv)
{
    struct or_err_detail err;
    ProtobufCMessage *m = NULL;
    char *text = NULL, msg[1024];
    size_t len = 0;

    if (argc != 3) {
        fprintf(stderr, "usage: %s <message full name> <yaml or json file>\n", argv[0]);
        return 2;
    }
    const ProtobufCMessageDescriptor *d = or_config_type_find(argv[1]);
    if (d == NULL) {
        fprintf(stderr, "%s: message type '%s' is not registered\n", argv[0], argv[1]);
        return 1;
    }
    if (or_config_read_file(argv[2], &text, &len) != 0) {
        perror(argv[2]);
        return 1;
    }
    memset(&err, 0, sizeof(err));
    int rc = or_config_parse(text, len, d, &m, &err);
    free(text);
    if (rc != 0) {
        or_err_format(&err, msg, sizeof(msg));
        fprintf(stderr, "%s\n", msg);
        return 1;
    }
    size_t sz = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(sz + 1);
    if (buf == NULL) {
        or_config_free(m);
        return 1;
    }
    protobuf_c_message_pack(m, buf);
    size_t w = fwrite(buf, 1, sz, stdout);
    free(buf);
    or_config_free(m);
    return w == sz && fflush(stdout) == 0 ? 0 : 1;
}
