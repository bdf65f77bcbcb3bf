#!/usr/bin/env python3
"""Writes docs/configuration.md: the Envoy API subset Outrider accepts, read from xds/proto."""
import glob
import os
import re

here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
out = ["# Supported configuration", "",
       "Outrider reads the Envoy v3 API. This is the subset it accepts today, generated from `xds/proto/`",
       "by `scripts/gen-config-doc.py` (the messages keep Envoy's names and field numbers). Any other",
       "field is rejected with its path — e.g. `static_resources.clusters[0].lb_polcy: unknown or",
       "unsupported field` — so a configuration either means the same thing as in Envoy or does not load.",
       "", "Limits inside the subset (each rejected with a message naming the field):", "",
       "- `Listener`: exactly one filter chain holding exactly one `envoy.filters.network.http_connection_manager`;",
       "  `address` must be a TCP `socket_address` (`ipv4_compat` honoured for IPv6 binds).",
       "- `HttpConnectionManager`: `codec_type` AUTO or HTTP1 (HTTP/2 arrives with its own issue); an inline",
       "  `route_config` (RDS comes with xDS).",
       "- HTTP filters: `envoy.filters.http.router`.",
       "- `Cluster.type`: STATIC, STRICT_DNS, LOGICAL_DNS; `lb_policy`: ROUND_ROBIN, LEAST_REQUEST, RANDOM.",
       "- Access loggers: `envoy.access_loggers.file`, `envoy.access_loggers.stdout`, `envoy.access_loggers.stderr`",
       "  (`AccessLog.filter` is not in the subset).",
       "- Inert fields (accepted, change nothing here by design): `metadata` on listeners, routes and",
       "  endpoints; `Node.metadata`, `locality`, `user_agent_*`, `client_features` (shown by /server_info and",
       "  /config_dump); `CircuitBreakers.Thresholds.max_retries` (no retries yet, so no retry can overflow).",
       "", "| message | fields |", "|---|---|"]
for f in sorted(glob.glob(os.path.join(here, "xds/proto/**/*.proto"), recursive=True)):
    txt = open(f).read()
    pkg = re.search(r"^package ([\w.]+);", txt, re.M).group(1)
    stack, fields, order = [], {}, []
    for line in txt.splitlines():
        l = line.split("//")[0].strip()
        m = re.match(r"(message|enum) (\w+) \{", l)
        if m:
            stack.append((m.group(1), m.group(2)))
            if m.group(1) == "message":
                name = ".".join(x[1] for x in stack)
                order.append(name)
                fields[name] = []
            continue
        if l.startswith("oneof "):
            stack.append(("oneof", None))
            continue
        if l == "}":
            if stack:
                stack.pop()
            continue
        if stack and stack[-1][0] in ("message", "oneof") and not l.startswith("reserved"):
            m = re.match(r"(?:repeated |map<[^>]+> )?[\w.<>, ]+? (\w+) = (\d+)", l)
            if m:
                name = ".".join(x[1] for x in stack if x[0] == "message")
                fields[name].append(m.group(1))
    for n in order:
        out.append("| `%s.%s` | %s |" % (pkg, n, ", ".join("`%s`" % x for x in fields[n]) or "—"))
open(os.path.join(here, "docs/configuration.md"), "w").write("\n".join(out) + "\n")
