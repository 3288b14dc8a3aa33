"""Format detection and streaming readers: any inbox object -> batches of raw columns.

An object is recognised by its bytes, never by its name: gzip (decompressed first), Parquet,
JSON Lines, or CSV of any common dialect (delimiter, quoting, header, BOM, CRLF). Text is
UTF-8 (with or without BOM), UTF-16 with a BOM (transcoded to UTF-8 first, streaming), or
else Windows-1252 (Latin-1 for the five bytes cp1252 leaves undefined). Each reader yields
:class:`RawBatch` es of bounded size, so memory does not grow with the object. An object
that cannot be read at all raises :class:`UnreadableObject` with the reason; rows that
cannot be split into fields are reported as :class:`BadRecord`.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import encodings.cp1252
import gzip
import json
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ecommerce_assets.bronze.cleaning import normalize_header
from resources import settings

SAMPLE_BYTES = 1 << 16
BATCH_BYTES = 8 << 20  # CSV block size (~40k rows). Arrow reads a few dozen blocks ahead,
# so this bounds memory whatever the file size (measured: BENCHMARKS.md).
BATCH_ROWS = 250_000  # Parquet / JSON Lines rows per batch
DELIMITERS = ",;\t|"

# Decompression limits (a gzip bomb must not fill the temp disk). Deflate tops out near
# 1032:1; CSV/JSON exports gzip about 4-20:1 (very repetitive ones ~50:1). So past a floor
# (below which the temp file is harmless whatever the ratio) an object may grow at most
# MAX_RATIO times its compressed size: 4x the most repetitive real data, while any bomb
# (~1000:1) is stopped after writing floor-or-200x bytes. An absolute cap bounds a genuine
# but huge object; ECOMMERCE_MAX_DECOMPRESSED_BYTES sets it (default 20 GiB).
MAX_RATIO = 200
RATIO_FLOOR = 256 << 20
_CHUNK = 1 << 20

# Windows-1252 with the five bytes it leaves undefined (0x81 0x8D 0x8F 0x90 0x9D) read as
# Latin-1 (U+0081 ...): any byte string decodes, so this is the fallback of last resort,
# and curly quotes, dashes and the euro sign (0x80-0x9F) stay readable characters instead
# of C1 controls. A registered codec, so Arrow's streaming transcoder can use it.
CP1252 = "cp1252_latin1"
_CP1252_TABLE = "".join(chr(i) if ch == "\ufffe" else ch
                        for i, ch in enumerate(encodings.cp1252.decoding_table))


class _Cp1252Decoder(codecs.IncrementalDecoder):
    def decode(self, data: bytes, final: bool = False) -> str:
        return codecs.charmap_decode(data, self.errors, _CP1252_TABLE)[0]


def _cp1252_search(name: str) -> codecs.CodecInfo | None:
    if name != CP1252:
        return None
    return codecs.CodecInfo(
        name=CP1252, encode=encodings.cp1252.Codec().encode,
        decode=lambda data, errors="strict": codecs.charmap_decode(data, errors, _CP1252_TABLE),
        incrementaldecoder=_Cp1252Decoder,
        streamreader=encodings.cp1252.StreamReader, streamwriter=encodings.cp1252.StreamWriter)


codecs.register(_cp1252_search)
ENCODING_LABELS = {CP1252: "cp1252"}  # codec -> the name recorded in the file registry
_UTF16_BOMS = {codecs.BOM_UTF16_LE: "utf-16-le", codecs.BOM_UTF16_BE: "utf-16-be"}


class UnreadableObject(Exception):
    """The object as a whole cannot be read as a table (the reason is the message)."""


@dataclass
class RawBatch:
    columns: dict[str, pa.Array]  # normalized column name -> raw values
    lines: np.ndarray  # source line (record number, header = 1) of each row


@dataclass
class BadRecord:
    line: int
    text: str
    reason: str


@dataclass
class ObjectReader:
    """What detection found, and a factory for the object's batches."""

    format: str  # csv | jsonl | parquet
    compression: str | None
    encoding: str | None  # as detected: utf-8, utf-8-sig, cp1252, utf-16-le … (None: Parquet)
    header: list[str]  # normalized column names, in file order
    batches: Callable[[], Iterator[RawBatch]]
    bad_records: list[BadRecord] = field(default_factory=list)
    dialect: str = ""


def decompression_limit(compressed_bytes: int) -> int:
    """How many bytes an object of ``compressed_bytes`` may decompress to (see MAX_RATIO)."""
    return min(settings.max_decompressed_bytes(), max(RATIO_FLOOR, MAX_RATIO * compressed_bytes))


@contextlib.contextmanager
def plain_file(path: Path) -> Iterator[tuple[Path, str | None]]:
    """Yield an uncompressed copy of ``path`` (itself when not gzip) and the compression.

    Raises :class:`UnreadableObject` when the gzip is corrupt or would decompress past
    :func:`decompression_limit` (having written at most the limit).
    """
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic != b"\x1f\x8b":
        yield path, None
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "decompressed"
        _gunzip(path, out)
        yield out, "gzip"


def _gunzip(path: Path, out: Path) -> None:
    size = path.stat().st_size
    limit = decompression_limit(size)
    written = 0
    with gzip.open(path, "rb") as src, open(out, "wb") as dst:
        while True:
            try:
                chunk = src.read(_CHUNK)
            except (EOFError, OSError, zlib.error) as exc:
                raise UnreadableObject(f"truncated or corrupt gzip: {exc}") from exc
            if not chunk:
                return
            if written + len(chunk) > limit:
                raise UnreadableObject(
                    f"gzip decompresses to more than {limit:,} bytes ({size:,} compressed): "
                    f"a decompression bomb or an object too large (limits: {MAX_RATIO}:1 past "
                    f"{RATIO_FLOOR >> 20} MiB, at most {settings.max_decompressed_bytes():,} bytes, "
                    f"ECOMMERCE_MAX_DECOMPRESSED_BYTES)")
            dst.write(chunk)
            written += len(chunk)


@contextlib.contextmanager
def utf8_file(path: Path) -> Iterator[tuple[Path, str | None]]:
    """Yield ``path`` itself, or a UTF-8 copy of it when it starts with a UTF-16 BOM, and
    the UTF-16 encoding found (None when not transcoded).

    The copy is written a chunk at a time (memory stays flat); a UTF-16 file that does not
    decode (odd length, lone surrogate) raises :class:`UnreadableObject`.
    """
    with open(path, "rb") as fh:
        encoding = _UTF16_BOMS.get(fh.read(2))
    if encoding is None:
        yield path, None
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "utf8"
        try:  # 'utf-16' reads the BOM, picks the byte order and drops the BOM
            with open(path, encoding="utf-16", newline="") as src, \
                    open(out, "w", encoding="utf-8", newline="") as dst:
                while chunk := src.read(_CHUNK):
                    dst.write(chunk)
        except UnicodeDecodeError as exc:
            raise UnreadableObject(f"invalid {encoding.upper()} (it has a BOM): "
                                   f"{exc.reason}") from exc
        yield out, encoding


def open_reader(path: Path, compression: str | None = None,
                encoding: str | None = None) -> ObjectReader:
    """Detect the format of the (uncompressed) file at ``path`` and return its reader."""
    with open(path, "rb") as fh:
        head = fh.read(SAMPLE_BYTES)
    if not head.strip():
        raise UnreadableObject("empty object: no header row")
    if head.startswith(b"PAR1"):
        return _parquet_reader(path, compression)
    if b"\x00" in head:
        raise UnreadableObject("binary content (NUL bytes) that is neither Parquet nor gzip")
    text, detected = _decode_sample(head, encoding)
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\r\n")
    if controls > len(text) // 100:
        raise UnreadableObject(f"binary content: {controls} control characters in the "
                               f"first {len(text)} characters")
    first = text.lstrip("\ufeff \t\r\n")[:1]
    if first == "{":
        reader = _jsonl_reader(path, compression, detected)
    elif first == "[":
        raise UnreadableObject("a JSON array: only JSON Lines (one object per line) is read")
    else:
        reader = _csv_reader(path, compression, detected, text)
    reader.encoding = _encoding_label(head, detected)
    return reader


def _decode_sample(head: bytes, encoding: str | None) -> tuple[str, str]:
    """The sample as text and the codec to read the object with: ``encoding`` when given,
    else UTF-8 when the sample is valid UTF-8, else Windows-1252 (:data:`CP1252`)."""
    if encoding:
        return head.decode(encoding, errors="replace"), encoding
    try:
        # A multi-byte character may be cut at the sample's end: ignore only that tail.
        return head.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:
            return head[: exc.start].decode("utf-8"), "utf-8"
        return head.decode(CP1252), CP1252


def _encoding_label(head: bytes, codec: str) -> str:
    if codec == "utf-8" and head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    return ENCODING_LABELS.get(codec, codec)


def _header_names(raw: list[str]) -> list[str]:
    """Normalized names; duplicates are left for the agent to report (after the key check,
    which explains a missing header better)."""
    return [normalize_header(n) or f"column_{i + 1}" for i, n in enumerate(raw)]


def _csv_reader(path: Path, compression: str | None, encoding: str, sample: str) -> ObjectReader:
    body = sample.lstrip("\ufeff")
    lines = body.splitlines()
    if len(body) >= SAMPLE_BYTES - 4 and len(lines) > 1:
        lines = lines[:-1]  # the last line of a cut sample may be partial
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines[:50]), delimiters=DELIMITERS)
        delimiter, quote = dialect.delimiter, dialect.quotechar or '"'
    except csv.Error:  # one column, or too few lines to tell: count in the header
        counts = {d: lines[0].count(d) for d in DELIMITERS}
        delimiter, quote = max(counts, key=counts.get), '"'
    header_raw = next(csv.reader([lines[0]], delimiter=delimiter, quotechar=quote))
    header = _header_names(header_raw)
    placeholders = [f"c{i}" for i in range(len(header))]
    bad: list[BadRecord] = []

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad.append(BadRecord(row.number or 0, row.text,
                             f"expected {row.expected_columns} fields, found "
                             f"{row.actual_columns}"))
        return "skip"

    def batches() -> Iterator[RawBatch]:
        reader = pacsv.open_csv(
            path,
            # Serial reading keeps record numbers exact (Arrow reports them only then).
            read_options=pacsv.ReadOptions(skip_rows=1, column_names=placeholders,
                                           encoding=encoding, block_size=BATCH_BYTES,
                                           use_threads=False),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, quote_char=quote,
                                             newlines_in_values=True,
                                             invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(placeholders, pa.string()),
                strings_can_be_null=False, quoted_strings_can_be_null=False))
        next_line, seen_bad = 2, 0
        for batch in reader:
            n = batch.num_rows
            # Record numbers of this batch: the next n numbers not taken by skipped rows.
            skipped = {b.line for b in bad[seen_bad:]} if len(bad) > seen_bad else set()
            if skipped:
                candidates = np.arange(next_line, next_line + n + len(skipped))
                lines_ = candidates[~np.isin(candidates, list(skipped))][:n]
                seen_bad = sum(1 for b in bad if b.line <= lines_[-1]) if n else seen_bad
            else:
                lines_ = np.arange(next_line, next_line + n)
            next_line = int(lines_[-1]) + 1 if n else next_line
            yield RawBatch(dict(zip(header, batch.columns, strict=True)), lines_)

    quoted = "" if quote == '"' else f", quote {quote!r}"
    return ObjectReader("csv", compression, encoding, header, batches, bad,
                        dialect=f"delimiter {delimiter!r}{quoted}")


def _parquet_reader(path: Path, compression: str | None) -> ObjectReader:
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise UnreadableObject(f"corrupt Parquet: {exc}") from exc
    header = _header_names(pf.schema_arrow.names)

    def batches() -> Iterator[RawBatch]:
        start = 1  # no header line: the first row is record 1
        for batch in pf.iter_batches(batch_size=BATCH_ROWS):
            yield RawBatch(dict(zip(header, batch.columns, strict=True)),
                           np.arange(start, start + batch.num_rows))
            start += batch.num_rows

    return ObjectReader("parquet", compression, None, header, batches)


def _jsonl_reader(path: Path, compression: str | None, encoding: str) -> ObjectReader:
    """JSON Lines through DuckDB's JSON functions, a bounded block of lines at a time.

    Values of any JSON type arrive as text (numbers as written, objects as JSON), so a
    column that mixes numbers and strings ('12' and '12a') is read, not rejected.
    """
    import duckdb

    bad: list[BadRecord] = []
    header_seen: list[str] = []

    def batches() -> Iterator[RawBatch]:
        conn = duckdb.connect()
        with open(path, encoding=encoding, errors="strict", newline="") as fh:
            line_no = 0
            while True:
                lines = fh.readlines(BATCH_BYTES)
                if not lines:
                    break
                numbers = np.arange(line_no + 1, line_no + 1 + len(lines))
                line_no += len(lines)
                text = pc.utf8_trim_whitespace(pc.replace_substring(
                    pa.array(lines, pa.string()), "\ufeff", ""))
                keep = _valid_objects(conn, text)
                for i in np.flatnonzero(~keep):
                    if text[i].as_py():  # blank lines are not records
                        bad.append(BadRecord(int(numbers[i]), text[i].as_py()[:1000],
                                             "not a JSON object"))
                objects = text.filter(pa.array(keep))
                rows = numbers[keep]
                if not len(objects):
                    continue
                conn.register("batch", pa.table({"t": objects}))
                keys = [r[0] for r in conn.sql(
                    "SELECT DISTINCT unnest(json_keys(t::JSON)) FROM batch").fetchall()]
                # Objects may spell a key differently ('Retail Price', 'retail_price'):
                # keys with the same normalized name are one column (first non-null wins).
                spellings: dict[str, list[str]] = {}
                for k in sorted(keys):
                    spellings.setdefault(normalize_header(k) or "column", []).append(k)
                names = list(spellings)
                header_seen.extend(n for n in names if n not in header_seen)
                select = ", ".join(
                    "coalesce(" + ", ".join(
                        f"json_extract_string(t, {_sql_str('$.' + _json_path_key(k))})"
                        for k in raw) + f") AS c{i}"
                    for i, raw in enumerate(spellings.values()))
                table = conn.sql(f"SELECT {select} FROM batch").to_arrow_table()
                yield RawBatch({n: table.column(i).combine_chunks()
                                for i, n in enumerate(names)}, rows)
        conn.close()

    # The header (keys) is known once the first batch is read; scan a sample for it now.
    reader = ObjectReader("jsonl", compression, encoding, header_seen, batches, bad)
    with open(path, encoding=encoding, errors="replace") as fh:
        for raw_line in fh.readlines(SAMPLE_BYTES):
            with contextlib.suppress(ValueError):
                obj = json.loads(raw_line)
                if isinstance(obj, dict):
                    header_seen.extend(n for n in map(normalize_header, obj)
                                       if n not in header_seen)
    return reader


def _valid_objects(conn, text: pa.Array) -> np.ndarray:
    conn.register("lines", pa.table({"t": text}))
    flags = conn.sql("SELECT coalesce(json_type(TRY_CAST(t AS JSON)) = 'OBJECT', false) "
                     "FROM lines").to_arrow_table().column(0)
    return np.asarray(flags.to_numpy(zero_copy_only=False), dtype=bool)


def _json_path_key(key: str) -> str:
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
