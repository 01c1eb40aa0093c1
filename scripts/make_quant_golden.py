#!/usr/bin/env python3
"""Writes tests/data/quant_golden.bin, the golden data for tests/test_quant.cpp.

The expected values come from the reference implementation in the `gguf` Python package
(gguf.quants.quantize / gguf.quants.dequantize), so the C++ block codecs are checked against code
written independently of ours. The data is deterministic (fixed seed); rerun this script only when
the set of records changes, and commit the output together with the script.

Usage: scripts/make_quant_golden.py [output path]   (needs: pip install gguf numpy)

File layout, all integers little-endian:

  magic       8 bytes    b"HIPQGOLD"
  version     u32        1
  genLen      u32        length of the next field
  generator   genLen B   UTF-8, the producing package versions, e.g. "gguf 0.19.0, numpy 2.4.6"
  count       u32        number of records
  count records, each:
    labelLen  u32        length of the next field
    label     labelLen B UTF-8, what the record covers, e.g. "Q4_0 random"
    type      u32        ggml type id (GGMLQuantizationType value)
    flags     u32        bit 0 (HAS_INPUT): `input` is present and `blocks` is gguf-py's
                         quantization of it; without it `blocks` is hand-made raw block data
    rows      u32
    cols      u32        elements per row, a multiple of the type's block size
    input     f32[rows*cols]             only with HAS_INPUT
    blocks    u8[rows*cols/blockSize*blockBytes]
    output    f32[rows*cols]             gguf.quants.dequantize(blocks)
"""

import importlib.metadata
import struct
import sys
from pathlib import Path

import numpy as np
from gguf import GGML_QUANT_SIZES, GGMLQuantizationType as T
from gguf.quants import dequantize, quantize

HAS_INPUT = 1

# Types whose blocks gguf-py can produce; the others get random raw blocks only.
QUANTIZABLE = [T.F32, T.F16, T.BF16, T.Q8_0, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1]
DEQUANT_ONLY = [T.Q4_K, T.Q5_K, T.Q6_K]

# Byte offsets of the fp16 fields (d, m, dmin) inside one block, per type.
HALF_FIELDS = {
    T.Q8_0: [0],
    T.Q4_0: [0],
    T.Q4_1: [0, 2],
    T.Q5_0: [0],
    T.Q5_1: [0, 2],
    T.Q4_K: [0, 2],
    T.Q5_K: [0, 2],
    T.Q6_K: [208],
}

rng = np.random.default_rng(20240607)


def as_f32(values) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


def bits_to_f32(bits) -> np.ndarray:
    return np.asarray(bits, dtype=np.uint32).view(np.float32)


def random_rows(rows: int, cols: int, block: int) -> np.ndarray:
    """Gaussian data whose magnitude and offset change from block to block, as in real weights."""
    blocks = rows * cols // block
    magnitude = 10.0 ** rng.uniform(-3, 3, size=(blocks, 1))
    offset = rng.choice([0.0, 0.0, 1.0, -1.0], size=(blocks, 1)) * magnitude * 2
    data = rng.standard_normal((blocks, block)) * magnitude + offset
    return as_f32(data).reshape(rows, cols)


def quantize_edge_rows(block: int) -> np.ndarray:
    """Rows of one 32-element block each that reach the quantizers' corner cases."""
    halves = np.arange(-15.5, 15.0, 1.0)  # -15.5 .. 14.5, 31 values
    odd = np.arange(-15.0, 16.0, 2.0)  # 16 values
    rows = [
        np.zeros(block),
        np.full(block, -0.0),
        np.full(block, 3.25),  # constant positive block: Q4_1/Q5_1 with d = 0
        # Exact ties of the truncating quantizers: d = 1 for Q5_0 (x + 16.5 lands on integers) ...
        np.concatenate([[-16.0], halves]),
        # ... d = 2 for Q4_0 (x/2 + 8.5 lands on integers) ...
        np.concatenate([[-16.0], odd, odd[:15]]),
        # ... and d = 1 for Q4_1 and Q5_1 ((x - min) + 0.5 lands on integers).
        np.concatenate([[0.0, 15.0], np.arange(0.5, 15.0, 1.0), np.arange(0.5, 15.0, 1.0)]),
        np.concatenate([[0.0, 31.0], np.arange(0.5, 30.0, 1.0)]),
        # Q8_0 ties: amax = 127 gives d = 1 and round() meets k + 0.5.
        np.concatenate([[127.0], np.arange(-126.5, 127.0, 8.0)[:31]]),
        # Equal magnitudes with both signs: the first largest |x| decides the sign of d.
        np.resize([-3.0, 3.0, 1.0, -2.0], block),
        np.resize([3.0, -3.0, 1.0, -2.0], block),
        np.resize([60000.0, -65504.0, 1.0, 0.0], block),  # fp16 extremes
        np.resize([1e-5, -3e-6, 2e-7], block),  # scales that are fp16 subnormal or zero
    ]
    assert all(len(r) == block for r in rows)
    return as_f32(np.stack(rows))


def near_boundary_rows(qtype: T, rows: int, cols: int) -> np.ndarray:
    """Blocks whose elements sit within a few ulps of the quantizers' decision boundaries.

    Each block's first element(s) fix d so that 1/d is inexact; every other element is placed
    next to a point where the level changes. Whether it lands above or below then depends on every
    fp32 rounding step, so these rows catch any deviation in the order of operations (or a fused
    multiply-add) that random data would almost never reveal.
    """
    def place(value: float) -> np.float32:
        nudge = int(rng.integers(-3, 4))  # ulps; the sign region never changes in these ranges
        bits = np.float32(value).view(np.uint32).astype(np.int64) + nudge
        return np.uint32(bits).view(np.float32)

    blocks = []
    for _ in range(rows * cols // 32):
        scale = rng.uniform(1.0, 10.0)
        if qtype in (T.Q4_0, T.Q5_0):
            bias = 8 if qtype == T.Q4_0 else 16
            d = scale / bias  # the first element -scale is the largest magnitude: d = scale/bias
            head = [-scale]
            # Level k starts where x/d + bias + 0.5 reaches k.
            points = [(k - bias - 0.5) * d for k in rng.integers(1, 2 * bias, 31)]
        elif qtype == T.Q8_0:
            d = scale / 127
            head = [scale]
            # round() changes level at x/d = k + 0.5.
            points = [(k + 0.5) * d for k in rng.integers(-127, 127, 31)]
        else:  # Q4_1, Q5_1
            max_level = 15 if qtype == T.Q4_1 else 31
            low = -rng.uniform(0.0, 5.0)
            high = low + scale
            d = scale / max_level
            head = [low, high]
            # Level k starts where (x - min)/d + 0.5 reaches k.
            points = [low + (k - 0.5) * d for k in rng.integers(1, max_level + 1, 30)]
        blocks.append([np.float32(v) for v in head] + [place(v) for v in points])
    return as_f32(blocks).reshape(rows, cols)


def float_edge_values() -> np.ndarray:
    """Inputs for F16/BF16 conversion: specials and rounding ties of both formats."""
    values = [0.0, -0.0, 1.0, -1.0, 65504.0, 65519.99, 65520.0, -65520.0, 1e9, -1e9,
              np.inf, -np.inf, 6.1035156e-05, 5.9604645e-08, 2.9802322e-08, 2.9802326e-08,
              1e-10, -1e-10, 3.4028235e38, 1.1754944e-38, 1e-45]
    bits = [0x3F801000, 0x3F803000, 0x3F808000, 0x3F818000, 0x3F807FFF, 0x3F808001,
            0x00400000, 0x807FFFFF, 0x7F7F8000, 0x7F7FFFFF]
    return np.concatenate([as_f32(values), bits_to_f32(bits)])


def nan_values() -> np.ndarray:
    # Quiet, signalling and negative NaNs: BF16 quantization must force them quiet like ggml.
    return bits_to_f32([0x7FC00000, 0x7F800001, 0xFFA00000, 0x7FFFFFFF, 0xFF800100])


def conversion_rows(qtype: T) -> np.ndarray:
    """F32/F16/BF16 inputs: specials, a wide random range, and values next to rounding ties."""
    specials = float_edge_values()
    # No NaNs for F16: numpy's float16 cast keeps a signalling NaN signalling, while the engine
    # (like x86 F16C) makes it quiet; test_quant checks the engine's NaN handling itself.
    if qtype == T.BF16:
        specials = np.concatenate([specials, nan_values()])
    cols = 64
    wide = as_f32(rng.standard_normal(cols * 3) * 10.0 ** rng.uniform(-9, 6, cols * 3))
    # Dropped low bits just below, at and just above the target format's rounding tie.
    tie_bit = 0x8000 if qtype == T.BF16 else 0x1000
    high_bits = rng.integers(0x30000000, 0x47000000, cols, dtype=np.uint32)
    high_bits &= ~np.uint32(2 * tie_bit - 1)
    near_ties = bits_to_f32(high_bits | rng.choice([tie_bit - 1, tie_bit, tie_bit + 1], cols))
    data = np.concatenate([specials, wide, near_ties])
    data = np.concatenate([data, np.zeros(-len(data) % cols, dtype=np.float32)])
    return data.reshape(-1, cols)


def random_half_bits(count: int) -> np.ndarray:
    """fp16 scales as they occur (normal, modest) mixed with arbitrary finite bit patterns."""
    realistic = (rng.standard_normal(count) * 10.0 ** rng.uniform(-4, 1, count)).astype(np.float16)
    arbitrary = rng.integers(0, 0x10000, count, dtype=np.uint32).astype(np.uint16)
    arbitrary = np.where((arbitrary & 0x7C00) == 0x7C00, arbitrary & 0xBFFF, arbitrary)
    return np.where(rng.random(count) < 0.5, realistic.view(np.uint16), arbitrary)


def random_blocks(qtype: T, n_blocks: int) -> np.ndarray:
    """Random bytes with every fp16 field replaced by a finite half: valid, arbitrary blocks."""
    _, type_size = GGML_QUANT_SIZES[qtype]
    blocks = rng.integers(0, 256, (n_blocks, type_size), dtype=np.uint8)
    for offset in HALF_FIELDS[qtype]:
        blocks[:, offset:offset + 2] = random_half_bits(n_blocks).view(np.uint8).reshape(-1, 2)
    return blocks


def edge_blocks(qtype: T) -> np.ndarray:
    """All-zero, largest-magnitude and negative-zero-scale blocks."""
    _, type_size = GGML_QUANT_SIZES[qtype]
    zeros = np.zeros(type_size, dtype=np.uint8)
    all_ones = np.full(type_size, 0xFF, dtype=np.uint8)  # every quant and sub-scale byte 0xFF
    negative_zero = rng.integers(0, 256, type_size, dtype=np.uint8)
    for i, offset in enumerate(HALF_FIELDS[qtype]):
        # d = 65504; the Q4_1/Q5_1 offset m = -65504 (K-quants' dmin stays 65504: it is subtracted).
        largest = 0xFBFF if qtype in (T.Q4_1, T.Q5_1) and i == 1 else 0x7BFF
        all_ones[offset:offset + 2] = np.array([largest], dtype=np.uint16).view(np.uint8)
        negative_zero[offset:offset + 2] = np.array([0x8000], dtype=np.uint16).view(np.uint8)
    blocks = [zeros, all_ones, negative_zero]
    if qtype == T.Q6_K:
        # The largest Q6_K magnitude: d = 65504, scales = -128, q = 0 - 32.
        extreme = np.zeros(type_size, dtype=np.uint8)
        extreme[192:208] = 0x80
        extreme[208:210] = np.array([0x7BFF], dtype=np.uint16).view(np.uint8)
        blocks.append(extreme)
    return np.stack(blocks)


class Writer:
    def __init__(self):
        self.records: list[bytes] = []

    def add(self, label: str, qtype: T, rows: int, cols: int, blocks: np.ndarray,
            data_in: np.ndarray | None = None):
        blocks = np.ascontiguousarray(blocks, dtype=np.uint8).reshape(rows, -1)
        output = as_f32(dequantize(blocks, qtype)).reshape(rows, cols)
        flags = HAS_INPUT if data_in is not None else 0
        encoded_label = label.encode()
        parts = [struct.pack("<I", len(encoded_label)), encoded_label,
                 struct.pack("<IIII", qtype.value, flags, rows, cols)]
        if data_in is not None:
            parts.append(as_f32(data_in).reshape(rows, cols).tobytes())
        parts += [blocks.tobytes(), output.tobytes()]
        self.records.append(b"".join(parts))

    def add_quantized(self, label: str, qtype: T, data_in: np.ndarray):
        with np.errstate(over="ignore"):  # F16 conversion rows overflow to inf on purpose
            blocks = np.asarray(quantize(data_in, qtype)).view(np.uint8)
        self.add(label, qtype, data_in.shape[0], data_in.shape[1], blocks, data_in)

    def add_raw(self, label: str, qtype: T, blocks: np.ndarray):
        block_size, type_size = GGML_QUANT_SIZES[qtype]
        rows = blocks.size // type_size
        self.add(label, qtype, rows, block_size, blocks)

    def write(self, path: Path, generator: str):
        gen = generator.encode()
        header = b"HIPQGOLD" + struct.pack("<II", 1, len(gen)) + gen
        body = struct.pack("<I", len(self.records)) + b"".join(self.records)
        path.write_bytes(header + body)


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else \
        Path(__file__).resolve().parent.parent / "tests" / "data" / "quant_golden.bin"
    generator = (f"gguf {importlib.metadata.version('gguf')}, "
                 f"numpy {importlib.metadata.version('numpy')}")
    w = Writer()
    for qtype in QUANTIZABLE:
        name = qtype.name
        if qtype in (T.F32, T.F16, T.BF16):
            w.add_quantized(f"{name} conversion", qtype, conversion_rows(qtype))
            continue
        block, _ = GGML_QUANT_SIZES[qtype]
        w.add_quantized(f"{name} random", qtype, random_rows(4, 256, block))
        w.add_quantized(f"{name} edge rows", qtype, quantize_edge_rows(block))
        w.add_quantized(f"{name} near boundaries", qtype, near_boundary_rows(qtype, 4, 256))
        w.add_raw(f"{name} random blocks", qtype, random_blocks(qtype, 16))
        w.add_raw(f"{name} edge blocks", qtype, edge_blocks(qtype))
    for qtype in DEQUANT_ONLY:
        w.add_raw(f"{qtype.name} random blocks", qtype, random_blocks(qtype, 12))
        w.add_raw(f"{qtype.name} edge blocks", qtype, edge_blocks(qtype))
    w.write(out, generator)
    print(f"wrote {out} ({out.stat().st_size} bytes, {len(w.records)} records) with {generator}")


if __name__ == "__main__":
    main()
