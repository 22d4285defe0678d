#!/usr/bin/env python3
"""The peer for quarry's extraction benchmark: datatrove's WarcReader + Trafilatura over one WARC.

Runs the pipeline a datatrove user would write (FineWeb's first two steps) with one task and one
worker (LocalPipelineExecutor, tasks=1, workers=1). Note that datatrove's extractor runs trafilatura
in a sandbox child process (for its per-document timeout), so CPU time is reported for the main
process and its children together, and peak RSS for each.

Prints one JSON line:
  docs        HTML response records read (documents entering the extractor)
  docs_out    documents with non-empty extracted text
  mb          input WARC file size in MB (10^6 bytes), as read from disk
  html_mb     decoded HTML handed to the extractor (UTF-8 bytes)
  text_mb     extracted text (UTF-8 bytes)
  seconds     wall time of the pipeline (excluding interpreter start-up and imports)
  mb_per_s, html_mb_per_s, docs_per_s
  cpu_seconds user+sys of this process and its children
  peak_rss_mb max RSS of this process + max RSS of its largest child (an upper bound)

Usage: datatrove_extract.py FILE.warc.gz [--timeout 1.0] [--limit N] [--no-dedup]
Needs: pip install 'datatrove[io,processing]' trafilatura lxml_html_clean
"""

import argparse
import json
import os
import resource
import sys
import tempfile
import time


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("warc")
    ap.add_argument("--timeout", type=float, default=1.0, help="datatrove's per-document extraction timeout (s)")
    ap.add_argument("--no-dedup", action="store_true",
                    help="turn off trafilatura's cross-document paragraph dedup (datatrove's default is on; "
                         "on an input of repeated pages it empties later copies)")
    ap.add_argument("--limit", type=int, default=-1, help="read at most N documents (-1: all)")
    args = ap.parse_args()

    import logging

    # Import trafilatura here, before datatrove forks its extraction sandbox: a missing dependency
    # then fails loudly instead of as silent per-document errors, and the child inherits the loaded
    # module instead of importing it within its 1 s warm-up window.
    import trafilatura  # noqa: F401

    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.readers import WarcReader
    from datatrove.utils.logging import logger

    logger.remove()  # datatrove logs every step to stderr; keep the output to the one JSON line
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)

    path = os.path.abspath(args.warc)
    if not os.path.isfile(path):
        sys.exit(f"no such file: {path}")
    counts = {"docs": 0, "html_bytes": 0, "docs_out": 0, "text_bytes": 0}

    def count_in(data, rank=0, world_size=1):
        for doc in data:
            counts["docs"] += 1
            counts["html_bytes"] += len(doc.text.encode("utf-8", "surrogatepass"))
            yield doc

    def count_out(data, rank=0, world_size=1):
        for doc in data:
            counts["docs_out"] += 1
            counts["text_bytes"] += len(doc.text.encode("utf-8", "surrogatepass"))
        return
        yield  # a generator that consumes everything and yields nothing

    with tempfile.TemporaryDirectory() as logdir:
        executor = LocalPipelineExecutor(
            pipeline=[
                WarcReader(os.path.dirname(path), glob_pattern=os.path.basename(path), limit=args.limit),
                count_in,
                Trafilatura(favour_precision=True, timeout=args.timeout, deduplicate=not args.no_dedup),
                count_out,
            ],
            tasks=1,
            workers=1,
            logging_dir=logdir,
            skip_completed=False,
        )
        t0 = time.perf_counter()
        executor.run()
        seconds = time.perf_counter() - t0

    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    mb = os.path.getsize(path) / 1e6
    if counts["docs"] and not counts["docs_out"]:
        sys.exit("datatrove extracted no text at all: the extractor is broken (see stderr)")
    print(json.dumps({
        "tool": "datatrove+trafilatura",
        "file": os.path.basename(path),
        "trafilatura_dedup": not args.no_dedup,
        "docs": counts["docs"],
        "docs_out": counts["docs_out"],
        "mb": round(mb, 2),
        "html_mb": round(counts["html_bytes"] / 1e6, 2),
        "text_mb": round(counts["text_bytes"] / 1e6, 2),
        "seconds": round(seconds, 2),
        "mb_per_s": round(mb / seconds, 3),
        "html_mb_per_s": round(counts["html_bytes"] / 1e6 / seconds, 3),
        "docs_per_s": round(counts["docs"] / seconds, 1),
        "cpu_seconds": round(me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime, 2),
        "peak_rss_mb": round((me.ru_maxrss + kids.ru_maxrss) / 1024, 1),
        "peak_rss_main_mb": round(me.ru_maxrss / 1024, 1),
        "peak_rss_child_mb": round(kids.ru_maxrss / 1024, 1),
    }))


if __name__ == "__main__":
    main()
