/* protobuf MergeFrom and deep copy over protobuf-c descriptors. */
#include <stdlib.h>
#include <string.h>

#include "proxy/config/pbutil.h"
#include "proxy/config/reflect.h"

ProtobufCMessage *or_config_dup(const ProtobufCMessage *m)
{
    size_t sz = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(sz + 1);
    if (buf == NULL)
        return NULL;
    protobuf_c_message_pack(m, buf);
    ProtobufCMessage *copy = protobuf_c_message_unpack(m->descriptor, NULL, sz, buf);
    free(buf);
    return copy;
}

/* Copies one value of `f`'s type from src to dst (deep for strings, bytes and messages). */
static int copy_value(const ProtobufCFieldDescriptor *f, void *dst, const void *src)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(const char *const *)src;
        char *copy = strdup(s ? s : "");
        if (copy == NULL)
            return OR_ENOMEM;
        *(char **)dst = copy;
        return 0;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = src;
        ProtobufCBinaryData *d = dst;
        uint8_t *data = malloc(b->len ? b->len : 1);
        if (data == NULL)
            return OR_ENOMEM;
        if (b->len)
            memcpy(data, b->data, b->len);
        d->data = data;
        d->len = b->len;
        return 0;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)src;
        ProtobufCMessage *copy = sub ? or_config_dup(sub) : NULL;
        if (sub != NULL && copy == NULL)
            return OR_ENOMEM;
        *(ProtobufCMessage **)dst = copy;
        return 0;
    }
    default:
        memcpy(dst, src, or_pb_elem_size(f->type));
        return 0;
    }
}

/* Releases what a singular value owns, as protobuf_c_message_free_unpacked would. */
static void free_value(const ProtobufCFieldDescriptor *f, void *p)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        char *s = *(char **)p;
        if (s != NULL && s != protobuf_c_empty_string && s != f->default_value)
            free(s);
        *(char **)p = (char *)protobuf_c_empty_string;
        return;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        ProtobufCBinaryData *b = p;
        const ProtobufCBinaryData *def = f->default_value;
        if (b->data != NULL && (def == NULL || b->data != def->data))
            free(b->data);
        b->data = NULL;
        b->len = 0;
        return;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        if (*(ProtobufCMessage **)p != NULL)
            protobuf_c_message_free_unpacked(*(ProtobufCMessage **)p, NULL);
        *(ProtobufCMessage **)p = NULL;
        return;
    default:
        return;
    }
}

static int merge_msg(ProtobufCMessage *dst, const ProtobufCMessage *src)
{
    const ProtobufCMessageDescriptor *d = src->descriptor;
    char *dbase = (char *)dst;
    const char *sbase = (const char *)src;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        void *dp = dbase + f->offset;
        const void *sp = sbase + f->offset;
        int rc = 0;
        if (!or_pb_field_is_set(src, f))
            continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t *dn = (size_t *)(dbase + f->quantifier_offset);
            size_t sn = *(const size_t *)(sbase + f->quantifier_offset);
            size_t esz = or_pb_elem_size(f->type);
            const char *sarr = *(const char *const *)sp;
            char *arr = realloc(*(void **)dp, (*dn + sn) * esz);
            if (arr == NULL)
                return OR_ENOMEM;
            *(void **)dp = arr;
            for (size_t j = 0; j < sn; j++) {
                rc = copy_value(f, arr + *dn * esz, sarr + j * esz);
                if (rc != 0)
                    return rc;
                (*dn)++;
            }
            continue;
        }
        bool msg = f->type == PROTOBUF_C_TYPE_MESSAGE;
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t *dcase = (uint32_t *)(dbase + f->quantifier_offset);
            if (*dcase == f->id && msg && *(ProtobufCMessage **)dp != NULL) {
                rc = merge_msg(*(ProtobufCMessage **)dp, *(const ProtobufCMessage *const *)sp);
            } else {
                if (*dcase != 0) {
                    const ProtobufCFieldDescriptor *old =
                        protobuf_c_message_descriptor_get_field(d, *dcase);
                    if (old != NULL)
                        free_value(old, dbase + old->offset);
                    *dcase = 0;
                }
                rc = copy_value(f, dp, sp);
                if (rc == 0)
                    *dcase = f->id;
            }
        } else if (msg && *(ProtobufCMessage **)dp != NULL) {
            rc = merge_msg(*(ProtobufCMessage **)dp, *(const ProtobufCMessage *const *)sp);
        } else {
            free_value(f, dp);
            rc = copy_value(f, dp, sp);
            if (rc == 0 && f->label == PROTOBUF_C_LABEL_OPTIONAL && !msg &&
                f->type != PROTOBUF_C_TYPE_STRING)
                *(protobuf_c_boolean *)(dbase + f->quantifier_offset) = 1;
        }
        if (rc != 0)
            return rc;
    }
    return 0;
}

int or_config_merge(ProtobufCMessage *dst, const ProtobufCMessage *src)
{
    if (dst->descriptor != src->descriptor)
        return OR_EINVAL;
    return merge_msg(dst, src);
}
