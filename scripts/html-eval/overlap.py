#!/usr/bin/env python3
"""Word-overlap of quarry's two extractors against Python trafilatura on real WARC pages.

A guard against tuning the quarry extractor to the 58 gold pages: on pages that carry no gold
labels, how close is each extractor's text to Python trafilatura's (the reference most corpora
use)? For every HTML response of the WARC(s) (first LIMIT), the word multisets of our text (A) and
of trafilatura's (B) give precision |A∩B|/|A|, recall |A∩B|/|B| and F1; the table shows the macro
mean over pages and the micro value (sums over all pages). Words: lowercase runs of letters/digits;
Han and kana characters count one word each (those scripts do not separate words by spaces).

Python side: ``trafilatura.extract(payload_bytes, url=..., include_comments=False)`` (its own
charset handling; balanced defaults, tables kept: what a user calls on fetched bytes). Rust side:
``cargo run --release -p quarry-corpus --example html_overlap`` (the real `extract` step, both
extractors).

Pages are split into those that are one of the 58 gold pages (by URL without the bench WARC's
``r=<n>`` query parameter) and the others, so the second group shows what tuning on gold did to
unseen pages.

Usage:
  scripts/html-eval/overlap.py [--limit 500] [--out summary.json] [--rust-jsonl FILE] WARC...
  # default WARC: .bench/bench-20mb.warc.gz (make it with
  #   python scripts/bench/make_bench_warc.py .bench/bench-20mb.warc.gz 20)
Needs: trafilatura, warcio (e.g. BENCH_VENV of scripts/bench.sh).
"""

import argparse
import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORD = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W_]+", re.UNICODE)
R_PARAM = re.compile(r"[?&]r=\d+")


def words(text):
    return Counter(WORD.findall((text or "").lower()))


def prf(a, b):
    """(overlap, |a|, |b|) of two word multisets."""
    inter = sum((a & b).values())
    return inter, sum(a.values()), sum(b.values())


def f1(inter, na, nb):
    if na == 0 and nb == 0:
        return 1.0, 1.0, 1.0
    p = inter / na if na else 0.0
    r = inter / nb if nb else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def python_reference(warcs, limit):
    import trafilatura
    from warcio.archiveiterator import ArchiveIterator

    ref = {}
    for path in warcs:
        with open(path, "rb") as fh:
            for rec in ArchiveIterator(fh):
                if rec.rec_type != "response" or not rec.http_headers:
                    continue
                ctype = (rec.http_headers.get_header("Content-Type") or "").lower()
                if not (ctype.startswith("text/html") or ctype.startswith("application/xhtml")):
                    continue
                rid = (rec.rec_headers.get_header("WARC-Record-ID") or "").strip("<>")
                url = rec.rec_headers.get_header("WARC-Target-URI")
                body = rec.content_stream().read()
                try:
                    text = trafilatura.extract(body, url=url, include_comments=False) or ""
                except Exception:  # noqa: BLE001 - a failing page is an empty reference
                    text = ""
                ref[rid] = text
                if len(ref) >= limit:
                    return ref
    return ref


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("warcs", nargs="*", default=[str(ROOT / ".bench/bench-20mb.warc.gz")])
    ap.add_argument("--limit", type=int, default=500)
    ap.add_argument("--out", help="write the summary table as JSON here")
    ap.add_argument("--rust-jsonl", help="reuse this html_overlap output instead of running cargo")
    ap.add_argument("--ref-cache", help="cache Python trafilatura's texts in this JSON file")
    ap.add_argument("--data", default=os.environ.get("QUARRY_TEST_DATA", str(ROOT / ".." / "shared" / "data")))
    args = ap.parse_args()

    rust_jsonl = args.rust_jsonl
    if not rust_jsonl:
        rust_jsonl = str(ROOT / ".bench" / "overlap-rust.jsonl")
        cmd = ["cargo", "run", "--release", "--quiet", "-p", "quarry-corpus", "--example", "html_overlap",
               "--", rust_jsonl, str(args.limit), *args.warcs]
        subprocess.run(cmd, check=True, cwd=ROOT)
    rust = [json.loads(line) for line in open(rust_jsonl, encoding="utf-8")]

    if args.ref_cache and os.path.exists(args.ref_cache):
        ref = {k.strip("<>"): v for k, v in json.load(open(args.ref_cache, encoding="utf-8")).items()}
    else:
        ref = python_reference(args.warcs, args.limit)
        if args.ref_cache:
            json.dump(ref, open(args.ref_cache, "w", encoding="utf-8"))

    gold_urls = set()
    index = Path(args.data) / "html" / "index.jsonl"
    if index.exists():
        for line in open(index, encoding="utf-8"):
            u = json.loads(line).get("url")
            if u:
                gold_urls.add(u)

    groups = {"all": [], "gold pages": [], "other pages": []}
    for rec in rust:
        if rec["id"] not in ref:
            continue
        base = R_PARAM.sub("", rec["url"])
        groups["all"].append(rec)
        groups["gold pages" if base in gold_urls else "other pages"].append(rec)

    summary = {}
    print(f"reference: Python trafilatura, {len(groups['all'])} pages "
          f"({len(groups['gold pages'])} copies of gold pages, {len(groups['other pages'])} others)")
    print("| pages | extractor | n | macro P | macro R | macro F1 | micro P | micro R | micro F1 |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for gname, recs in groups.items():
        for ex in ("quarry", "trafilatura"):
            macro = []
            ti = ta = tb = 0
            for rec in recs:
                i, na, nb = prf(words(rec[ex]), words(ref[rec["id"]]))
                macro.append(f1(i, na, nb))
                ti, ta, tb = ti + i, ta + na, tb + nb
            n = len(macro) or 1
            mp, mr, mf = (sum(x[k] for x in macro) / n for k in range(3))
            up, ur, uf = f1(ti, ta, tb)
            row = dict(pages=len(recs), macro_p=mp, macro_r=mr, macro_f1=mf, micro_p=up, micro_r=ur, micro_f1=uf)
            summary[f"{gname}/{ex}"] = {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}
            print(f"| {gname} | {ex} | {len(recs)} | {mp:.3f} | {mr:.3f} | {mf:.3f} | {up:.3f} | {ur:.3f} | {uf:.3f} |")
    if args.out:
        with open(args.out + ".tmp", "w", encoding="utf-8") as fh:
            json.dump(summary, fh, indent=1, sort_keys=True)
            fh.write("\n")
        os.replace(args.out + ".tmp", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
