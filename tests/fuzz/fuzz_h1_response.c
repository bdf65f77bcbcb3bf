/* libFuzzer target: the HTTP/1 response parser. The driver is fuzz_h1_request.c's, built for
 * OR_H1_RESPONSE; its control bytes also choose what each response answers (HEAD, CONNECT,
 * Upgrade). */
#define H1_FUZZ_RESPONSE 1
#include "fuzz_h1_request.c"
