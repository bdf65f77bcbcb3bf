/* Intrusive circular doubly linked list. */
#ifndef OR_CORE_LIST_H
#define OR_CORE_LIST_H

#include <stdbool.h>
#include <stddef.h>

struct or_list {
    struct or_list *prev; /* borrowed */
    struct or_list *next; /* borrowed */
};

#define OR_CONTAINER_OF(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

static inline void or_list_init(struct or_list *l)
{
    l->prev = l->next = l;
}

static inline bool or_list_empty(const struct or_list *l)
{
    return l->next == l;
}

static inline void or_list_insert(struct or_list *head, struct or_list *n)
{
    n->next = head->next;
    n->prev = head;
    head->next->prev = n;
    head->next = n;
}

static inline void or_list_remove(struct or_list *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = n;
}

#endif
