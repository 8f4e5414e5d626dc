#!/usr/bin/env python3
"""A test proxy in front of a docker-registry (tests/integration/registry-lib.sh).

Forwards every request to the registry at 127.0.0.1:UPSTREAM, logs one line per
request ("METHOD PATH range=…") to LOG, and misbehaves on demand: the first line
of FAULT_FILE, read on each request, names the fault:

  503-once        the next blob GET answers 503 (the file is then emptied)
  drop-once       the next GET of a blob over 1 MiB sends half of it, then drops
                  the connection
  corrupt         every blob GET has one byte changed
  truncate        every blob GET declares and sends only half the blob
  missing         every blob GET answers 404
  bad-manifest    manifest GETs answer a body that is not JSON
  unknown-type    manifest GETs answer with an unknown media type
  deny            every request answers 403
  expire-once     (with --token) the next blob GET finds every token expired

With --token USER:PASS it also plays a bearer token server: /token hands out
tokens for HTTP Basic USER:PASS and registry requests without a valid token get
a 401 Bearer challenge pointing at it.
"""
import argparse
import base64
import http.client
import http.server
import json
import os
import secrets
import socketserver
import sys
import threading

args = None
tokens = set()
lock = threading.Lock()


def log(line):
    with lock, open(args.log, "a") as f:
        f.write(line + "\n")


def take(name):
    """Consumes the fault NAME if it is the current one: with parallel blob
    requests, only one of them may see a -once fault."""
    with lock:
        try:
            with open(args.fault_file) as f:
                current = f.readline().strip()
        except FileNotFoundError:
            return False
        if current != name:
            return False
        open(args.fault_file, "w").close()
        return True


def fault():
    try:
        with open(args.fault_file) as f:
            return f.readline().strip()
    except FileNotFoundError:
        return ""


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def token_ok(self):
        if not args.token:
            return True
        h = self.headers.get("Authorization", "")
        return h.startswith("Bearer ") and h[7:] in tokens

    def serve_token(self):
        h = self.headers.get("Authorization", "")
        want = "Basic " + base64.b64encode(args.token.encode()).decode()
        if h != want:
            self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}',
                       [("WWW-Authenticate", 'Basic realm="token"')])
            return
        tok = "tok-" + secrets.token_hex(16)
        tokens.add(tok)
        self.reply(200, json.dumps({"token": tok}).encode(),
                   [("Content-Type", "application/json")])

    def handle_any(self):
        rng = self.headers.get("Range", "")
        log(f"{self.command} {self.path} range={rng}")
        if self.path.startswith("/token"):
            return self.serve_token()
        is_blob = "/blobs/sha256:" in self.path and self.command == "GET"
        if is_blob and args.token and take("expire-once"):
            tokens.clear()
        if not self.token_ok():
            realm = f"http://127.0.0.1:{args.listen}/token"
            return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', [
                ("WWW-Authenticate", f'Bearer realm="{realm}",service="berth-test"'),
                ("Content-Type", "application/json")])
        is_manifest = "/manifests/" in self.path and self.command == "GET"
        f = fault()
        if f == "deny":
            return self.reply(403, b'{"errors":[{"code":"DENIED"}]}')
        if is_blob and f == "503-once" and take("503-once"):
            return self.reply(503, b"try again")
        if is_blob and f == "missing":
            return self.reply(404, b'{"errors":[{"code":"BLOB_UNKNOWN"}]}')
        body_len = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(body_len) if body_len else None
        # Host kept: the registry's Location headers (uploads) then name the
        # proxy, so that a push's PATCH and PUT requests pass here too.
        # Repeated headers (skopeo sends several Accept) are joined, not dropped.
        headers = {}
        for k, v in self.headers.items():
            if k.lower() not in ("connection", "authorization"):
                headers[k] = headers[k] + ", " + v if k in headers else v
        up = http.client.HTTPConnection("127.0.0.1", args.upstream, timeout=60)
        up.request(self.command, self.path, body=body, headers=headers)
        resp = up.getresponse()
        data = resp.read()
        up.close()
        out_headers = [(k, v) for k, v in resp.getheaders()
                       if k.lower() not in ("content-length", "connection",
                                            "transfer-encoding", "www-authenticate")]
        if is_manifest and resp.status == 200 and f == "bad-manifest":
            data = b"{this is not json"
        if is_manifest and resp.status == 200 and f == "unknown-type":
            out_headers = [(k, v) for k, v in out_headers if k.lower() != "content-type"]
            out_headers.append(("Content-Type", "application/x-berth-unknown"))
        if is_blob and resp.status in (200, 206) and len(data) > 1:
            if f == "corrupt":
                mid = len(data) // 2
                data = data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1:]
            elif f == "truncate":
                data = data[: len(data) // 2]
            elif f == "drop-once" and len(data) > 1024 * 1024 and take("drop-once"):
                self.send_response(resp.status)
                for k, v in out_headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
        self.reply(resp.status, data, out_headers)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    global args
    p = argparse.ArgumentParser()
    p.add_argument("--listen", type=int, required=True)
    p.add_argument("--upstream", type=int, required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--fault-file", required=True)
    p.add_argument("--token", help="USER:PASS read from the environment variable it names")
    args = p.parse_args()
    if args.token:
        # The credentials come from the environment, not this process's argv.
        args.token = os.environ[args.token]
    srv = Server(("127.0.0.1", args.listen), Handler)
    print("ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
