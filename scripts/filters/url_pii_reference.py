#!/usr/bin/env python3
"""Reference outputs of datatrove 0.10's URLFilter and PIIFormatter on real data, for
filters/tests/url_pii_agreement.rs.

URL filter: the 697 Common Crawl URLs (metadata.warc_url of the dolma CC documents) and the 58 page
URLs of html/index.jsonl. FineWeb's own block lists (UT1 adult domains, adult words) are not shipped
in this repository, so the lists are drawn deterministically from the real URLs themselves so that
every rule fires on some of them (filters/tests/data/url_lists/*.txt, written here). datatrove runs
with use_integrated_lists=False and tldextract's bundled Public Suffix List snapshot (no network).

PII: every document of the agreement set (dolma CC docs, tinyshakespeare chunks, Tatoeba groups, as
datatrove_reference.py builds them) plus the texts of the CC WET file, through a fresh
PIIFormatter per document (datatrove's replacement counter otherwise runs across documents).

Usage: /work/venvs/filters/bin/python scripts/filters/url_pii_reference.py
(pip: datatrove tldextract pyahocorasick fasteners)
"""
import gzip
import hashlib
import json
import re
import sys
from pathlib import Path

from tldextract import TLDExtract

sys.path.insert(0, str(Path(__file__).resolve().parent))
from datatrove_reference import DATA, ROOT, load_docs  # noqa: E402

from datatrove.data import Document  # noqa: E402
from datatrove.pipeline.filters.url_filter import URLFilter  # noqa: E402
from datatrove.pipeline.formatters.pii import PIIFormatter  # noqa: E402

OUT = ROOT / "filters" / "tests" / "data"
LISTS = OUT / "url_lists"
SEP = re.compile(r"[^a-zA-Z0-9]+")


def real_urls():
    urls = []
    dolma = next((DATA / "text").glob("dolma_cc-licensed-docs*.jsonl.gz"))
    with gzip.open(dolma, "rt", encoding="utf-8") as f:
        for line in f:
            urls.append(json.loads(line)["metadata"]["warc_url"])
    with open(DATA / "html" / "index.jsonl", encoding="utf-8") as f:
        for line in f:
            url = json.loads(line).get("url")
            if url:
                urls.append(url)
    return urls


def write_list(name, items):
    (LISTS / name).write_text("# drawn from real URLs by scripts/filters/url_pii_reference.py\n" + "\n".join(sorted(items)) + "\n")


def main():
    urls = real_urls()
    ext = TLDExtract(suffix_list_urls=())
    domains = {ext(u).registered_domain for i, u in enumerate(urls) if i % 25 == 0}
    domains |= {ext(u).fqdn for i, u in enumerate(urls) if i % 25 == 7}
    domains.discard("")
    block_urls = {u for i, u in enumerate(urls) if i % 40 == 3}
    pieces = sorted({p.lower() for u in urls for p in SEP.split(u.split("://", 1)[-1]) if p.isalpha()})
    long5 = [p for p in pieces if len(p) >= 5]
    banned = long5[::45]
    soft = [p for p in pieces if len(p) >= 4][1::25]
    subwords = [p[1:5] for p in pieces if len(p) >= 7][2::60]
    LISTS.mkdir(parents=True, exist_ok=True)
    write_list("domains.txt", domains)
    write_list("urls.txt", block_urls)
    write_list("banned_words.txt", banned)
    write_list("soft_banned_words.txt", soft)
    write_list("banned_subwords.txt", subwords)
    f = URLFilter(
        use_integrated_lists=False,
        extra_domains=sorted(domains),
        extra_urls=sorted(block_urls),
        banned_words=banned,
        banned_subwords=subwords,
        soft_banned_words=soft,
    )
    f.tldextractor = ext
    f.banned_subwords_automaton.make_automaton()
    rows = []
    for u in urls:
        r = f.filter(Document(text="", id=u, metadata={"url": u}))
        rows.append(f"{u}\t{'keep' if r is True else r[1]}")
    (OUT / "url_filter_reference.tsv").write_text("url\tverdict\n" + "\n".join(rows) + "\n")
    counts = {}
    for r in rows:
        counts[r.split("\t")[1]] = counts.get(r.split("\t")[1], 0) + 1
    print("url verdicts:", counts)

    pii_rows = []
    changed = 0
    for doc_id, text in load_docs():
        out = PIIFormatter().format(text)
        if out != text:
            changed += 1
        pii_rows.append(f"{doc_id}\t{hashlib.sha256(out.encode('utf-8')).hexdigest()[:16]}")
    (OUT / "pii_reference.tsv").write_text("id\toutput_sha256_16\n" + "\n".join(pii_rows) + "\n")
    print(f"pii: {changed} of {len(pii_rows)} documents changed")


if __name__ == "__main__":
    main()
