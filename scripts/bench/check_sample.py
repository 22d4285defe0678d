#!/usr/bin/env python3
"""Checks the synthetic sample crawl (corpus::sample) against real peers.

Reads a dump written by the Rust test `dump_sample_for_inspection` (one `<index>.http` file per page
plus truth.jsonl), extracts each HTML page's text with trafilatura (the extractor datatrove and
FineWeb use), runs fastText lid.176 on it, and compares with the ground truth:
  * LID: share of pages whose top label equals the true language, per language
  * extraction: share of content pages where trafilatura finds text, mean text length
  * Gopher stop-word rule (>= 2 of the, be, to, of, and, that, have, with) on English pages
It prints a table and writes a small JSON summary (committed as corpus/tests/sample_peer_check.json,
which the Rust test `sample_peer_check` ties to the generator's bytes via sample_sha256).

Usage:
  QUARRY_SAMPLE_DUMP=/tmp/s QUARRY_SAMPLE_DOCS=1000 cargo test -p quarry-corpus --test sample_generation -- --ignored dump
  check_sample.py /tmp/s [--model ../shared/data/lid/lid.176.ftz] [--json out.json]
Needs: trafilatura, lxml_html_clean, fasttext (fasttext-numpy2-wheel), numpy.
"""

import argparse
import collections
import gzip
import hashlib
import json
import os
import re


def default_model():
    data = os.environ.get("QUARRY_TEST_DATA") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data")
    return os.path.normpath(os.path.join(data, "lid", "lid.176.ftz"))


def split_response(raw):
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(": ")
        headers.setdefault(k.lower(), v)
    if headers.get("content-encoding", "").lower() == "gzip":
        body = gzip.decompress(body)
    return headers, body


def charset_of(headers, body):
    m = re.search(r"charset=([A-Za-z0-9_\-]+)", headers.get("content-type", ""))
    if m:
        return m.group(1)
    m = re.search(rb'charset=["\']?([A-Za-z0-9_\-]+)', body[:2048])
    return m.group(1).decode() if m else "utf-8"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dump")
    ap.add_argument("--model", default=default_model())
    ap.add_argument("--json")
    args = ap.parse_args()

    import fasttext
    import trafilatura

    fasttext.FastText.eprint = lambda *a, **k: None
    model = fasttext.load_model(args.model)
    truth = [json.loads(l) for l in open(os.path.join(args.dump, "truth.jsonl"), encoding="utf-8")]
    sha = hashlib.sha256()
    lid = collections.defaultdict(lambda: [0, 0])
    confusions = collections.Counter()
    extracted = collections.defaultdict(lambda: [0, 0, 0])
    gopher = [0, 0]
    for t in truth:
        raw = open(os.path.join(args.dump, f"{t['index']}.http"), "rb").read()
        sha.update(raw)
        if t["kind"] in ("binary", "redirect", "not_found"):
            continue
        headers, body = split_response(raw)
        html = body.decode(charset_of(headers, body))
        text = trafilatura.extract(html, favor_precision=True) or ""
        e = extracted[t["kind"]]
        e[0] += 1
        e[1] += bool(text.strip())
        e[2] += len(text)
        if not text.strip() or not t["language"]:
            continue
        label = model.predict(text.replace("\n", " "), k=1)[0][0].replace("__label__", "")
        lid[t["language"]][0] += 1
        lid[t["language"]][1] += label == t["language"]
        if label != t["language"]:
            confusions[(t["language"], label)] += 1
        if t["language"] == "en" and t["kind"] != "spam":
            words = re.findall(r"\w+", text.lower())
            stop = sum(w in {"the", "be", "to", "of", "and", "that", "have", "with"} for w in words)
            gopher[0] += 1
            gopher[1] += stop >= 2
    print("| language | pages with text | lid.176 top-1 = truth |")
    print("|---|---:|---:|")
    for lang in sorted(lid):
        n, ok = lid[lang]
        print(f"| {lang} | {n} | {ok / n:.3f} |")
    print("\n| kind | pages | trafilatura found text | mean chars |")
    print("|---|---:|---:|---:|")
    for kind in sorted(extracted):
        n, ok, chars = extracted[kind]
        print(f"| {kind} | {n} | {ok / n:.3f} | {chars / max(ok, 1):.0f} |")
    print(f"\nGopher stop-word rule on English non-spam pages: {gopher[1]}/{gopher[0]} pass")
    if confusions:
        print("most common LID confusions:", confusions.most_common(5))
    summary = {
        "docs": len(truth),
        "sample_sha256": sha.hexdigest(),
        "lid_accuracy": {k: round(v[1] / v[0], 4) for k, v in sorted(lid.items())},
        "lid_pages": {k: v[0] for k, v in sorted(lid.items())},
        "extracted_share": {k: round(v[1] / v[0], 4) for k, v in sorted(extracted.items())},
        "gopher_stopword_pass": round(gopher[1] / max(gopher[0], 1), 4),
        "tools": {"trafilatura": trafilatura.__version__, "lid_model": os.path.basename(args.model)},
    }
    if args.json:
        with open(args.json + ".tmp", "w") as f:
            json.dump(summary, f, indent=1, sort_keys=True)
            f.write("\n")
        os.replace(args.json + ".tmp", args.json)


if __name__ == "__main__":
    main()
