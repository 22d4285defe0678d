#!/usr/bin/env python3
"""Writes a static web site for the crawler benchmark: N pages, each ~SIZE bytes of HTML text,
linked as a 4-ary tree (page i links to 4i+1..4i+4) plus a link back to the root, and a
robots.txt allowing everything. Deterministic for given arguments.

Usage: make_site.py DIR N [SIZE]
"""
import os
import sys


def main(out, n, size):
    os.makedirs(out, exist_ok=True)
    words = ("river valley stone market harbour lantern orchard meadow library canal "
             "bridge festival mountain summer winter garden").split()
    with open(os.path.join(out, "robots.txt"), "w") as f:
        f.write("User-agent: *\nAllow: /\n")
    for i in range(n):
        kids = [j for j in range(4 * i + 1, 4 * i + 5) if j < n]
        links = "".join(f'<li><a href="/p{j}.html">page {j}</a></li>' for j in kids)
        paras = []
        k = i
        body_len = 0
        while body_len < size:
            sent = " ".join(words[(k * 7 + m * 3) % len(words)] for m in range(14))
            paras.append(f"<p>{sent.capitalize()}.</p>")
            body_len += len(paras[-1])
            k += 1
        html = (f"<!doctype html><html><head><title>Page {i}</title></head><body>"
                f"<h1>Page {i}</h1>{''.join(paras)}<ul>{links}</ul>"
                f'<a href="/p0.html">home</a></body></html>\n')
        with open(os.path.join(out, f"p{i}.html"), "w") as f:
            f.write(html)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 5000)
