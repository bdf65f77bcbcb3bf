"""A 1,000-route virtual host end to end (issue 4: route tables compiled per virtual host). The
unit tests compare the compiled index with the in-order scan over random tables; this proves the
loaded config drives the data path through it: prefix, exact path, safe_regex and header-matched
routes, case-insensitive prefixes, and first-match-wins where an earlier, shorter prefix shadows
later routes. Every answer is checked against a reference matcher written here from Envoy's rules
(routes in order, the first whose whole match succeeds; regexes match the whole path)."""

import random
import re

import harness
from harness import RawConn, bootstrap, free_ports, http_listener, virtual_host

N = 200  # of each kind


def direct(match, body):
    return {"match": match, "direct_response": {"status": 200, "body": {"inline_string": body}}}


def build_routes():
    routes = [
        # Shadows /p5/, /p50/ .. /p59/ and /p5x...: first match wins over every later route.
        direct({"prefix": "/p5"}, "p5-short"),
        direct({"prefix": "/CI/", "case_sensitive": False}, "caseless"),
    ]
    for i in range(N):
        routes.append(direct({"prefix": "/p%d/" % i}, "p%d" % i))
        routes.append(direct({"path": "/e%d" % i}, "e%d" % i))
        routes.append(direct({"safe_regex": {"regex": "/r%d/[0-9]+" % i}}, "r%d" % i))
        routes.append(direct({"prefix": "/h/", "headers": [
            {"name": "x-tenant", "string_match": {"exact": "t%d" % i}}]}, "h%d" % i))
    routes.append(direct({"prefix": "/"}, "default"))
    return routes


def reference(routes, path, headers):
    """Envoy's in-order route matching, for the match kinds used above."""
    p = path.split("?", 1)[0]
    for r in routes:
        m = r["match"]
        if "prefix" in m:
            if m.get("case_sensitive", True):
                ok = p.startswith(m["prefix"])
            else:
                ok = p.lower().startswith(m["prefix"].lower())
        elif "path" in m:
            ok = p == m["path"]
        else:
            ok = re.fullmatch(m["safe_regex"]["regex"], p) is not None
        for h in m.get("headers", []):
            ok = ok and headers.get(h["name"]) == h["string_match"]["exact"]
        if ok:
            return r["direct_response"]["body"]["inline_string"]
    return None


class RouteScale(harness.ProxyTest):
    @classmethod
    def setUpClass(cls):
        cls.routes = build_routes()
        cls.port, admin = free_ports(2)
        vh = virtual_host("all", cls.routes)
        cls.start_proxy(bootstrap(admin, [http_listener("l", cls.port, [vh])], []))

    def ask(self, c, path, headers):
        extra = "".join("%s: %s\r\n" % kv for kv in headers.items())
        c.send("GET %s HTTP/1.1\r\nHost: h\r\n%s\r\n" % (path, extra))
        r = c.read_response()
        self.assertEqual(r.status, 200, (path, headers, r.body[:200]))
        return r.body.decode()

    def test_fixed_cases(self):
        cases = [
            ("/p5/x", {}, "p5-short"), ("/p57/x", {}, "p5-short"), ("/p7/x", {}, "p7"),
            ("/p199/", {}, "p199"), ("/p200/", {}, "default"), ("/e42", {}, "e42"),
            ("/e42/", {}, "default"), ("/e42?q=1", {}, "e42"), ("/r17/123", {}, "r17"),
            ("/r17/12a", {}, "default"), ("/h/x", {"x-tenant": "t63"}, "h63"),
            ("/h/x", {"x-tenant": "nobody"}, "default"), ("/h/x", {}, "default"),
            ("/ci/a", {}, "caseless"), ("/cI/a", {}, "caseless"), ("/CIa", {}, "default"),
        ]
        with RawConn(self.port) as c:
            for path, headers, want in cases:
                self.assertEqual(reference(self.routes, path, headers), want, path)
                self.assertEqual(self.ask(c, path, headers), want, (path, headers))

    def test_random_requests(self):
        rnd = random.Random(4)
        with RawConn(self.port) as c:
            for _ in range(600):
                i = rnd.randrange(N + 20)
                kind = rnd.randrange(5)
                headers = {}
                if kind == 0:
                    path = "/p%d/%s" % (i, rnd.choice(["", "a", "b/c"]))
                elif kind == 1:
                    path = "/e%d%s" % (i, rnd.choice(["", "/", "x", "?a=b"]))
                elif kind == 2:
                    path = "/r%d/%s" % (i, rnd.choice(["1", "42", "4x", ""]))
                elif kind == 3:
                    path = "/h/%d" % i
                    if rnd.random() < 0.8:
                        headers["x-tenant"] = "t%d" % rnd.randrange(N + 20)
                else:
                    path = rnd.choice(["/", "/P1/", "/ci/", "/Ci/x", "/p", "/p5", "/e"])
                want = reference(self.routes, path, headers)
                self.assertEqual(self.ask(c, path, headers), want, (path, headers))
        self.assertProxyAlive()


if __name__ == "__main__":
    harness.main()
