/* Loading the bootstrap the way Envoy does: --config-path (by extension) and --config-yaml merged
 * over it. Also pulls in the reflection API and the type registry. */
#ifndef OR_CONFIG_LOAD_H
#define OR_CONFIG_LOAD_H

#include "envoy/config/bootstrap/v3/bootstrap.pb-c.h"
#include "proxy/config/reflect.h"
#include "proxy/config/types.h"
#include "proxy/core/err.h"

/* Reads the bootstrap from `path` (NULL or "" = none) and merges `yaml_override` (NULL or "" =
 * none) over it with protobuf MergeFrom semantics, like Envoy's --config-path / --config-yaml.
 * The file's format follows its extension: .yaml/.yml/.json as text, .pb as binary protobuf,
 * anything else as YAML. At least one of the two must be given; an empty file is an error.
 * Returns 0 with *out owned by the caller (free with or_config_free(&(*out)->base)), or OR_EINVAL /
 * OR_ENOMEM with `err` filled (path = field path, msg names the file or "--config-yaml"). */
int or_config_load_bootstrap(const char *path, const char *yaml_override,
                             Envoy__Config__Bootstrap__V3__Bootstrap **out,
                             struct or_err_detail *err);

/* Reads a whole file into a malloc'd, NUL-terminated buffer. 0, OR_ESYS (errno set) or
 * OR_ENOMEM. */
int or_config_read_file(const char *path, char **out, size_t *len);

#endif
