/* Internal to proxy/config: the proto3 JSON text forms of well-known types and scalars, shared by
 * the loader (text -> value) and the JSON writer (value -> text). */
#ifndef OR_CONFIG_PBUTIL_H
#define OR_CONFIG_PBUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* Largest |seconds| of a Duration and the Timestamp range (0001-01-01 .. 9999-12-31), per
 * google/protobuf/{duration,timestamp}.proto. */
#define OR_PB_DURATION_MAX_SECONDS 315576000000LL
#define OR_PB_TIMESTAMP_MIN_SECONDS -62135596800LL
#define OR_PB_TIMESTAMP_MAX_SECONDS 253402300799LL

/* "1.5s", "-0.25s", "15s" -> seconds/nanos (same sign). 0 or -1 with a reason in *why. */
int or_pb_parse_duration(const char *s, int64_t *seconds, int32_t *nanos, const char **why);
/* Writes "1.500s" style text (0, 3, 6 or 9 fraction digits); buf of 40 bytes is enough. */
void or_pb_format_duration(int64_t seconds, int32_t nanos, char *buf, size_t len);

/* RFC 3339 ("1972-01-01T10:00:20.021Z", "...+01:00") -> seconds since the epoch and nanos. */
int or_pb_parse_timestamp(const char *s, int64_t *seconds, int32_t *nanos, const char **why);
/* Writes "1972-01-01T10:00:20.021Z"; buf of 48 bytes is enough. -1 when out of range. */
int or_pb_format_timestamp(int64_t seconds, int32_t nanos, char *buf, size_t len);

/* Standard or URL-safe base64, padding optional. Returns a malloc'd buffer (never NULL on success,
 * even for zero bytes) or NULL with *bad set when the text is not base64 (*bad false = OOM). */
uint8_t *or_pb_base64_decode(const char *s, size_t len, size_t *out_len, bool *bad);
/* Standard alphabet with padding into a malloc'd NUL-terminated string; NULL on OOM. */
char *or_pb_base64_encode(const uint8_t *data, size_t len);

/* Text that reads back as the same double/float, as protobuf prints them ("%.15g" or "%.17g"). */
void or_pb_format_double(double v, char *buf, size_t len);
void or_pb_format_float(float v, char *buf, size_t len);

/* snake_case field name -> protoc's json_name (lowerCamelCase) into buf. */
void or_pb_json_name(const char *name, char *buf, size_t len);

/* True when `f` is a map field: protobuf-c sees map<K,V> as repeated `<CamelName>Entry` messages
 * with key = 1 and value = 2. */
bool or_pb_is_map_field(const ProtobufCFieldDescriptor *f);

/* Bytes one element of type `t` takes in a protobuf-c message or repeated array. */
size_t or_pb_elem_size(ProtobufCType t);
/* proto3 presence as the JSON writer and MergeFrom see it: a oneof member by its case, repeated by
 * count, messages by pointer, explicit-presence scalars by has_, other scalars when non-default. */
bool or_pb_field_is_set(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f);

/* True when the message type has a special JSON form (Duration, Timestamp, wrappers, Struct,
 * Value, ListValue, Any): inside an Any its JSON goes under a "value" key. */
bool or_pb_is_wkt_special(const ProtobufCMessageDescriptor *d);
/* True for google.protobuf.{Double,Float,Int64,UInt64,Int32,UInt32,Bool,String,Bytes}Value. */
bool or_pb_is_wrapper(const ProtobufCMessageDescriptor *d);

#endif
