#!/usr/bin/env python3
"""Build a large Common-Crawl-style .warc.gz for the extraction benchmark from REAL HTML pages.

Sources (read from the shared test-data kit, never copied into the repo):
  * html/*.html             58 real pages (URLs from html/index.jsonl)
  * warc/commoncrawl/*.warc.gz and warc/other/dolma_*.warc.gz: the text/html response payloads

The base pages are cycled, each repetition with deterministic variations, until the compressed
output reaches the size target:
  * a different URL (a `r=<n>` query parameter; the host and path stay real),
  * small text mutations (a few ASCII words in text nodes dropped, duplicated or swapped, plus a
    unique HTML comment), so no two payloads are byte-identical and exact dedup has nothing to
    short-circuit,
  * a fresh fetch time.

Layout is Common Crawl's: one gzip member per record; a warcinfo record, then per page a
`request`, a `response` (HTTP headers + payload, with payload/block digests) and a `metadata`
record (fetchTimeMs, charset-detected), linked by WARC-Concurrent-To.

Usage: make_bench_warc.py OUT.warc.gz [SIZE_MB=200] [--data DIR] [--seed N]
Needs: warcio (pip install warcio). Deterministic for a given seed, data and Python version.
"""

import argparse
import glob
import hashlib
import io
import json
import os
import random
import re
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

CHARSET_RE = re.compile(rb'charset\s*=\s*["\']?([A-Za-z0-9_\-:]+)', re.I)
TEXT_RE = re.compile(rb">([^<]{40,})<")
WORD_RE = re.compile(rb"[A-Za-z]{4,}")
SCRIPT_RE = re.compile(rb"<(script|style)\b.*?</\1\s*>", re.I | re.S)
DROP_HEADERS = {"content-encoding", "transfer-encoding", "content-length", "x-crawler-content-encoding",
                "x-crawler-transfer-encoding", "x-crawler-content-length"}


def default_data_dir():
    env = os.environ.get("QUARRY_TEST_DATA")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, "..", "..", "..", "shared", "data"))


def load_pages(data):
    """Returns [(url, [(header, value)], payload_bytes)] in a fixed order."""
    pages = []
    index = {}
    with open(os.path.join(data, "html", "index.jsonl"), encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            index[rec["file"]] = rec
    for path in sorted(glob.glob(os.path.join(data, "html", "*.html"))):
        name = os.path.basename(path)
        with open(path, "rb") as f:
            body = f.read()
        url = index.get(name, {}).get("url") or f"http://{name.split('_', 1)[-1]}/"
        cs = index.get(name, {}).get("declared_charset")
        ctype = f"text/html; charset={cs}" if cs else "text/html"
        pages.append((url, [("Content-Type", ctype)], body))
    warcs = sorted(glob.glob(os.path.join(data, "warc", "commoncrawl", "*.warc.gz")))
    warcs += sorted(glob.glob(os.path.join(data, "warc", "other", "dolma_*.warc.gz")))
    for path in warcs:
        with open(path, "rb") as f:
            for rec in ArchiveIterator(f):
                if rec.rec_type != "response" or not rec.http_headers:
                    continue
                ctype = rec.http_headers.get_header("Content-Type") or ""
                if not ctype.lower().startswith("text/html"):
                    continue
                url = rec.rec_headers.get_header("WARC-Target-URI")
                # content_stream() undoes chunking and gzip/deflate, so the payload is stored decoded
                # (as Common Crawl does) and the encoding headers are dropped below.
                body = rec.content_stream().read()
                headers = [(k, v) for k, v in rec.http_headers.headers if k.lower() not in DROP_HEADERS]
                pages.append((url, headers, body))
    return pages


def mutate(body, rng, rep):
    """Small deterministic edits in text nodes outside scripts, plus a unique comment."""
    protected = [m.span() for m in SCRIPT_RE.finditer(body)]

    def in_script(pos):
        return any(a <= pos < b for a, b in protected)

    spans = [m.span(1) for m in TEXT_RE.finditer(body) if not in_script(m.start())]
    out = bytearray(body)
    if spans:
        # Edit from the end so earlier offsets stay valid.
        chosen = sorted(rng.sample(spans, min(len(spans), rng.randint(1, 4))), reverse=True)
        for a, b in chosen:
            seg = bytes(out[a:b])
            words = list(WORD_RE.finditer(seg))
            if len(words) < 2:
                continue
            i = rng.randrange(len(words) - 1)
            w1, w2 = words[i], words[i + 1]
            op = rng.randrange(3)
            if op == 0:  # drop a word
                seg = seg[: w1.start()] + seg[w1.end():].lstrip(b" ")
            elif op == 1:  # duplicate a word
                seg = seg[: w1.end()] + b" " + w1.group() + seg[w1.end():]
            else:  # swap two neighbouring words
                seg = seg[: w1.start()] + w2.group() + seg[w1.end(): w2.start()] + w1.group() + seg[w2.end():]
            out[a:b] = seg
    comment = b"<!-- r%d %08x -->\n" % (rep, rng.getrandbits(32))
    low = bytes(out[:4096]).lower()
    pos = low.find(b"</head>")
    if pos < 0:
        out = comment + out
    else:
        out[pos:pos] = comment
    return bytes(out)


def vary_url(url, rep):
    if rep == 0:
        return url
    sep = "&" if "?" in url else "?"
    frag = ""
    if "#" in url:
        url, frag = url.split("#", 1)
        frag = "#" + frag
    return f"{url}{sep}r={rep}{frag}"


def detect_charset(headers, body):
    for k, v in headers:
        if k.lower() == "content-type":
            m = CHARSET_RE.search(v.encode("latin-1", "replace"))
            if m:
                return m.group(1).decode("ascii").upper()
    m = CHARSET_RE.search(body[:4096])
    return m.group(1).decode("ascii", "replace").upper() if m else "UTF-8"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("size_mb", nargs="?", type=float, default=200.0)
    ap.add_argument("--data", default=default_data_dir())
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    pages = load_pages(args.data)
    if not pages:
        sys.exit(f"no HTML pages found under {args.data}")
    target = int(args.size_mb * 1e6)
    rng = random.Random(args.seed)
    start = datetime(2024, 5, 18, 3, 0, 0, tzinfo=timezone.utc)
    tmp = args.out + ".tmp"
    t0 = time.time()
    n_pages = 0
    raw_bytes = 0
    with open(tmp, "wb") as fh:
        writer = WARCWriter(fh, gzip=True, warc_version="1.0")
        info = writer.create_warcinfo_record(os.path.basename(args.out), {
            "software": "quarry scripts/bench/make_bench_warc.py",
            "format": "WARC File Format 1.0",
            "conformsTo": "http://bibnum.bnf.fr/WARC/WARC_ISO_28500_version1_latestdraft.pdf",
            "description": "quarry extraction benchmark input: real HTML pages repeated with variations",
            "isPartOf": "QUARRY-BENCH",
            "robots": "checked via crawler-commons",
        })
        # Fixed record ids and dates so the output is reproducible.
        info.rec_headers.replace_header("WARC-Record-ID", f"<urn:uuid:{uuid.UUID(int=rng.getrandbits(128))}>")
        info.rec_headers.replace_header("WARC-Date", start.strftime("%Y-%m-%dT%H:%M:%SZ"))
        writer.write_record(info)
        warcinfo_id = info.rec_headers.get_header("WARC-Record-ID")
        rep = 0
        while fh.tell() < target:
            for url, headers, body in pages:
                if fh.tell() >= target:
                    break
                when = start + timedelta(seconds=n_pages * 2 + rng.randrange(2))
                wdate = when.strftime("%Y-%m-%dT%H:%M:%SZ")
                u = vary_url(url, rep)
                payload = mutate(body, rng, rep)
                host = re.sub(r"^[a-z]+://", "", u).split("/")[0]
                path = u[u.find(host) + len(host):] or "/"
                ip = "10.%d.%d.%d" % (rng.randrange(256), rng.randrange(256), rng.randrange(1, 255))
                req_hdr = StatusAndHeaders(f"GET {path} HTTP/1.1", [
                    ("User-Agent", "CCBot/2.0 (https://commoncrawl.org/faq/)"),
                    ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
                    ("Accept-Language", "en-US,en;q=0.5"),
                    ("If-Modified-Since", (when - timedelta(days=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")),
                    ("Accept-Encoding", "br,gzip"),
                    ("Host", host),
                    ("Connection", "Keep-Alive"),
                ], is_http_request=True)
                hdrs = [(k, v) for k, v in headers if k.lower() != "date"]
                hdrs.insert(0, ("Date", when.strftime("%a, %d %b %Y %H:%M:%S GMT")))
                hdrs.append(("X-Crawler-Content-Length", str(len(payload))))
                hdrs.append(("Content-Length", str(len(payload))))
                resp_hdr = StatusAndHeaders("200 OK", hdrs, protocol="HTTP/1.1")
                common = {"WARC-Date": wdate, "WARC-IP-Address": ip, "WARC-Warcinfo-ID": warcinfo_id}
                req = writer.create_warc_record(u, "request", payload=io.BytesIO(b""), http_headers=req_hdr,
                                                warc_headers_dict=dict(common))
                resp = writer.create_warc_record(u, "response", payload=io.BytesIO(payload), http_headers=resp_hdr,
                                                 warc_headers_dict=dict(common, **{"WARC-Identified-Payload-Type": "text/html"}))
                for r in (req, resp):
                    r.rec_headers.replace_header("WARC-Record-ID", f"<urn:uuid:{uuid.UUID(int=rng.getrandbits(128))}>")
                resp_id = resp.rec_headers.get_header("WARC-Record-ID")
                req.rec_headers.add_header("WARC-Concurrent-To", resp_id)
                meta_body = (f"fetchTimeMs: {rng.randrange(20, 2500)}\r\n"
                             f"charset-detected: {detect_charset(headers, payload)}\r\n").encode()
                meta = writer.create_warc_record(u, "metadata", payload=io.BytesIO(meta_body),
                                                 warc_content_type="application/warc-fields",
                                                 warc_headers_dict={"WARC-Date": wdate, "WARC-Warcinfo-ID": warcinfo_id,
                                                                    "WARC-Concurrent-To": resp_id})
                meta.rec_headers.replace_header("WARC-Record-ID", f"<urn:uuid:{uuid.UUID(int=rng.getrandbits(128))}>")
                writer.write_record(req)
                writer.write_record(resp)
                writer.write_record(meta)
                n_pages += 1
                raw_bytes += len(payload)
            rep += 1
    os.replace(tmp, args.out)
    size = os.path.getsize(args.out)
    print(json.dumps({
        "out": args.out, "base_pages": len(pages), "pages": n_pages, "repetitions": rep,
        "html_mb": round(raw_bytes / 1e6, 1), "warc_gz_mb": round(size / 1e6, 1),
        "seconds": round(time.time() - t0, 1),
    }))


if __name__ == "__main__":
    main()
