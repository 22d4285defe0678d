#!/usr/bin/env python3
"""Serves a folder over HTTP/1.1 with keep-alive on a loopback address, one thread per
connection, quietly (the benchmark's web server). Usage: serve.py DIR ADDRESS PORT"""
import functools
import http.server
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without this, Nagle + delayed ACK stall
    # every keep-alive response by ~40 ms.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass


def main(directory, address, port):
    h = functools.partial(Handler, directory=directory)
    srv = http.server.ThreadingHTTPServer((address, int(port)), h)
    srv.daemon_threads = True
    srv.serve_forever()


if __name__ == "__main__":
    main(*sys.argv[1:4])
