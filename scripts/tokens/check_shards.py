#!/usr/bin/env python3
"""Independent checker for quarry token shards, written from the format description in docs/tokens.md
(Megatron-LM MMIDIDX v1 `.bin`+`.idx`; OLMo/dolma headerless `.npy` + `.csv.gz`), with numpy only.

Usage:
  check_shards.py --format megatron|olmo [--tokenizer TOKENIZER_JSON] [--docs DOCS.jsonl.gz]... (repeatable)
                  [--eos-id N] [--any-order] SHARD [SHARD ...]

SHARD is a Megatron prefix (path without .bin/.idx), an OLMo `.npy` path, or a directory (all shards in
it, sorted by name). Structural checks always run. With --tokenizer (needs Python `tokenizers`) every
document is decoded; with --docs too, the documents (JSONL with `text`, optional `id`) are re-encoded in
Python and the ids must be identical, document by document, in order (or matched by id in OLMo metadata
with --any-order). Prints a JSON verdict; exits 1 on any mismatch, 2 on usage errors.
"""
import argparse
import csv
import glob
import gzip
import io
import json
import os
import struct
import sys

import numpy as np

MAGIC = b"MMIDIDX\x00\x00"
CODES = {1: np.uint8, 2: np.int8, 3: np.int16, 4: np.int32, 5: np.int64, 6: np.float64, 7: np.float32, 8: np.uint16}

problems = []


def fail(msg):
    problems.append(msg)


def read_megatron(prefix):
    """Return a list of documents, each a numpy array of ids."""
    with open(prefix + ".idx", "rb") as f:
        raw = f.read()
    if raw[:9] != MAGIC:
        fail(f"{prefix}.idx: magic {raw[:9]!r}")
        return []
    (version,) = struct.unpack_from("<Q", raw, 9)
    code = raw[17]
    seq_count, doc_count = struct.unpack_from("<QQ", raw, 18)
    if version != 1:
        fail(f"{prefix}.idx: version {version}")
    if code not in CODES:
        fail(f"{prefix}.idx: dtype code {code}")
        return []
    dtype = np.dtype(CODES[code]).newbyteorder("<")
    want = 34 + 12 * seq_count + 8 * doc_count
    if len(raw) != want:
        fail(f"{prefix}.idx: {len(raw)} bytes, want {want}")
        return []
    lengths = np.frombuffer(raw, dtype="<i4", count=seq_count, offset=34)
    pointers = np.frombuffer(raw, dtype="<i8", count=seq_count, offset=34 + 4 * seq_count)
    doc_idx = np.frombuffer(raw, dtype="<i8", count=doc_count, offset=34 + 12 * seq_count)
    data = np.fromfile(prefix + ".bin", dtype=dtype)
    if data.nbytes != os.path.getsize(prefix + ".bin"):
        fail(f"{prefix}.bin: size not a multiple of {dtype.itemsize}")
    expect_ptr = np.concatenate([[0], np.cumsum(lengths.astype(np.int64) * dtype.itemsize)[:-1]]) if seq_count else []
    if seq_count and not np.array_equal(pointers, expect_ptr):
        fail(f"{prefix}.idx: pointers are not the running sum of lengths x itemsize")
    if int(lengths.astype(np.int64).sum()) != data.size:
        fail(f"{prefix}: lengths sum {int(lengths.sum())} != .bin tokens {data.size}")
    if doc_count < 1 or doc_idx[0] != 0 or doc_idx[-1] != seq_count or np.any(np.diff(doc_idx) < 0):
        fail(f"{prefix}.idx: document indices not a monotone run from 0 to {seq_count}")
        return []
    docs = []
    for d in range(doc_count - 1):
        parts = [data[p // dtype.itemsize : p // dtype.itemsize + n]
                 for p, n in zip(pointers[doc_idx[d]:doc_idx[d + 1]], lengths[doc_idx[d]:doc_idx[d + 1]])]
        docs.append((None, np.concatenate(parts) if parts else np.zeros(0, dtype)))
    return docs


def read_olmo(npy):
    base = npy[: -len(".npy")] if npy.endswith(".npy") else npy
    with gzip.open(base + ".csv.gz", "rb") as f:
        raw = f.read()
    if raw and not raw.endswith(b"\r\n"):
        fail(f"{base}.csv.gz: rows must end with CRLF (python csv.writer)")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    size = os.path.getsize(base + ".npy")
    total = int(rows[-1][1]) if rows else 0
    if total == 0:
        fail(f"{base}: empty shard")
        return []
    if size == 2 * total:
        dtype = np.dtype("<u2")
    elif size == 4 * total:
        dtype = np.dtype("<u4")
    else:
        fail(f"{base}.npy: {size} bytes for {total} tokens")
        return []
    data = np.fromfile(base + ".npy", dtype=dtype)
    docs, prev = [], 0
    for i, r in enumerate(rows):
        if len(r) != 5:
            fail(f"{base}.csv.gz row {i}: {len(r)} fields")
            continue
        start, end, doc_id, src, loc = int(r[0]), int(r[1]), r[2], r[3], int(r[4])
        if start != prev or end <= start:
            fail(f"{base}.csv.gz row {i}: [{start},{end}) after {prev}")
        prev = end
        docs.append((doc_id, data[start:end]))
    return docs


def expand(paths, fmt):
    out = []
    for p in paths:
        if os.path.isdir(p):
            if fmt == "megatron":
                out += sorted(x[:-4] for x in glob.glob(os.path.join(p, "*.idx")))
            else:
                out += sorted(glob.glob(os.path.join(p, "*.npy")))
        else:
            out.append(p[:-4] if fmt == "megatron" and p.endswith((".bin", ".idx")) else p)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--format", choices=["megatron", "olmo"], required=True)
    ap.add_argument("--tokenizer")
    ap.add_argument("--docs", action="append", default=[])
    ap.add_argument("--eos-id", type=int)
    ap.add_argument("--any-order", action="store_true")
    ap.add_argument("shards", nargs="+")
    a = ap.parse_args()
    shards = expand(a.shards, a.format)
    if not shards:
        print("no shards found", file=sys.stderr)
        sys.exit(2)
    docs = []
    for s in shards:
        docs += read_megatron(s) if a.format == "megatron" else read_olmo(s)
    tok = None
    eos = a.eos_id
    if a.tokenizer:
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(a.tokenizer)
        if eos is None:
            eos = tok.token_to_id("<|endoftext|>")
    if eos is not None:
        bad = [i for i, (_, t) in enumerate(docs) if t.size == 0 or int(t[-1]) != eos]
        if bad:
            fail(f"{len(bad)} documents do not end with EOS {eos} (first: {bad[:5]})")
    compared = 0
    if tok is not None and a.docs:
        texts = []
        for p in a.docs:
            with gzip.open(p, "rt", encoding="utf-8") if p.endswith(".gz") else open(p, encoding="utf-8") as f:
                for line in f:
                    row = json.loads(line)
                    if row.get("text"):
                        texts.append((str(row.get("id", "")), row["text"]))
        if a.any_order:
            by_id = {i: t for i, t in texts}
            pairs = [(by_id.get(doc_id), got) for doc_id, got in docs]
        else:
            if len(texts) != len(docs):
                fail(f"{len(docs)} documents in shards, {len(texts)} non-empty in the input")
            pairs = list(zip([t for _, t in texts], [g for _, g in docs]))
        encs = tok.encode_batch([t or "" for t, _ in pairs], add_special_tokens=False)
        for i, ((text, got), enc) in enumerate(zip(pairs, encs)):
            if text is None:
                fail(f"document {i}: id not in the input")
                continue
            want = enc.ids + [eos]
            if got.tolist() != want:
                fail(f"document {i}: ids differ from Python tokenizers ({got.size} vs {len(want)})")
            elif tok.decode(want[:-1], skip_special_tokens=False) != (
                tok.normalizer.normalize_str(text) if tok.normalizer is not None else text
            ):
                fail(f"document {i}: decoding does not give back the text")
            compared += 1
    elif tok is not None:
        for i, (_, t) in enumerate(docs):
            tok.decode(t.tolist())
    verdict = {
        "format": a.format,
        "shards": len(shards),
        "documents": len(docs),
        "tokens": int(sum(t.size for _, t in docs)),
        "compared_with_python_tokenizers": compared,
        "ok": not problems,
        "problems": problems[:20],
    }
    print(json.dumps(verdict))
    sys.exit(0 if not problems else 1)


if __name__ == "__main__":
    main()
