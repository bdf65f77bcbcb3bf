/* Internal to proxy/config: a YAML (or JSON) document as a small node tree, so the reflection layer
 * can look a mapping's keys up in any order. Aliases point at the anchored node (the tree is a
 * DAG),
 * `<<` merge keys are expanded and `!ignore`-tagged entries dropped when a mapping closes. */
#ifndef OR_CONFIG_YAML_TREE_H
#define OR_CONFIG_YAML_TREE_H

#include <stdbool.h>
#include <stddef.h>

#include "proxy/core/arena.h"
#include "proxy/core/err.h"

enum or_ynode_kind {
    OR_YNODE_SCALAR = 0,
    OR_YNODE_SEQ,
    OR_YNODE_MAP,
};

struct or_ynode {
    enum or_ynode_kind kind;
    bool plain;              /* scalar without quotes or !!str tag: may mean null, bool or number */
    bool open;               /* collection still being parsed: an alias to it would be a cycle */
    bool ignore;             /* tagged !ignore: as a mapping key, Envoy drops the whole entry */
    const char *str;         /* tree-owned: scalar text, NUL-terminated (may hold NULs inside) */
    size_t len;              /* scalar length */
    struct or_ynode **items; /* tree-owned: sequence items, or mapping key,value,key,value... */
    size_t n;                /* sequence items, or mapping pairs */
    size_t cap;              /* slots allocated in items */
    unsigned line;           /* 1-based position of the node's start, for messages */
    unsigned col;
};

struct or_ytree {
    struct or_arena arena; /* owns every node and string */
    struct or_ynode *root; /* arena-owned; NULL for an empty document */
};

/* Parses one YAML document (JSON is accepted as YAML flow syntax). Returns 0 with t->root set (NULL
 * when the document is empty), or OR_EINVAL / OR_ENOMEM with `err` filled. The tree must be freed
 * with or_ytree_free() either way. */
int or_ytree_parse(struct or_ytree *t, const char *text, size_t len, struct or_err_detail *err);
void or_ytree_free(struct or_ytree *t);

/* True for a plain scalar that YAML reads as null: "", "~", "null", "Null", "NULL". */
bool or_ynode_is_null(const struct or_ynode *n);
/* Value of key `key` in a mapping node, NULL if absent. */
const struct or_ynode *or_ynode_get(const struct or_ynode *map, const char *key);
/* "a mapping", "a list" or "a scalar", for error messages. */
const char *or_ynode_kind_name(const struct or_ynode *n);

#endif
