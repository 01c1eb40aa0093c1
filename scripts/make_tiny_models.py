#!/usr/bin/env python3
"""Tiny random-weight GGUF models for every forward-pass path, with reference logits.

tests/test_reference_logits.cpp checks the engine against transformers on the default model only
(arch llama, Q4_1/Q8_0, tied embeddings, no rope scaling). This script writes small models that
cover the other paths the engine claims (see MODELS: qwen2 biases and NEOX rope, F16/BF16 and
every legacy and K-quant type the CPU backend computes with, grouped-query attention with group
1, 2 and 4, an untied output.weight, linear rope scaling and llama3 rope_freqs.weight), runs a
fixed token sequence through an independent implementation, and writes
tests/data/tiny_models_reference.json for tests/test_architectures.cpp.

The reference is Hugging Face transformers in float32. Where its GGUF loader handles the file,
the model is loaded from the GGUF itself (`from_pretrained(..., gguf_file=...)`). Its loader
ignores rope scaling stored in GGUF (no key maps to rope_parameters, and rope_freqs.weight is
dropped), so for those models the script builds the transformers model from a config it writes
itself and loads weights dequantized from the very bytes of the file by gguf-py. Both facts are
checked every run: the hand-built model must reproduce the GGUF loader where the loader is
right, and must differ from it where the rope is scaled.

Weights are drawn in the Hugging Face layout and the Q/K rows of arch llama are permuted on
writing, exactly as convert_hf_to_gguf.py does, so a reader that un-permutes (transformers) or
rotates neighbouring pairs (llama.cpp, the engine) sees the original model. One more file,
tiny_llama_unpermuted.gguf, holds the weights of tiny_llama_legacy.gguf written *without* the
permutation: the C++ test shows its logits leave the reference after position 0, proving the
comparison can see a rope-layout bug.

Deterministic (fixed seeds). Rerun only when the set of models changes, and commit the output
together with the script.

Usage: scripts/make_tiny_models.py [output dir, default tests/data]
       (needs gguf, numpy, torch, transformers)
"""
from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import gguf
import numpy as np
import torch
import transformers
from gguf import GGMLQuantizationType as T
from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

REFERENCE_FILE = "tiny_models_reference.json"
SEQUENCE_LENGTH = 24
TOP = 16  # largest logits stored per position
SAMPLED_IDS = 48  # further fixed vocabulary ids stored per position
ROPE_THETA = 10000.0
RMS_EPS = 1e-5
CONTEXT_LENGTH = 256

SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]  # ids 0, 1, 2 as in SmolLM2
MERGE_COUNT = 61  # vocabulary = 3 special + 256 byte + 61 merged tokens = 320
CHATML_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] "
    "+ '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}"
    "{% endif %}"
)
MERGE_TRAINING_TEXT = (
    "The lighthouse keeper climbed the stairs in the evening and counted the steps. The wind was "
    "strong, the sea was grey, and the light turned over the water. In the morning the keeper "
    "wrote the weather in the book: the time, the wind, the rain, the ships that passed in the "
    "night. Then he slept, and the light rested, and the gulls sat on the rail in the sun."
)

# Tensor roles, each written with the type its model assigns (norms and biases are always F32).
ROLES = ("token_embd", "output", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down")


def types(default: T, **overrides: T) -> dict[str, T]:
    return {role: overrides.get(role, default) for role in ROLES}


@dataclass(frozen=True)
class TinyModel:
    name: str  # written as tiny_{name}.gguf
    covers: str
    arch: str  # "llama" or "qwen2"
    tensor_types: dict[str, T]
    hidden: int = 128  # K-quant rows need multiples of 256, the other types do not
    ffn: int = 256
    heads: int = 4
    kv_heads: int = 2
    layers: int = 2
    tied: bool = True
    # Rope scaling in transformers' rope_parameters form; None = plain rope. "linear" is written
    # as rope.scaling.* keys, "llama3" as rope_freqs.weight (the converter's way).
    rope_scaling: dict | None = None
    seed: int = 0

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads

    @property
    def file_name(self) -> str:
        return f"tiny_{self.name}.gguf"


MODELS = [
    TinyModel(
        name="qwen2", arch="qwen2", seed=1,
        covers="arch qwen2: q/k/v biases, NEOX rope (pairs i, i+d/2), no Q/K permutation; "
               "GQA group 2; tied embeddings; Q8_0 and Q5_1",
        tensor_types=types(T.Q8_0, ffn_gate=T.Q5_1, ffn_up=T.Q5_1, ffn_down=T.Q5_1),
    ),
    TinyModel(
        name="llama_float", arch="llama", seed=2, kv_heads=4, ffn=128, tied=False,
        covers="arch llama: F16 and BF16 weights; no GQA (group 1); untied output.weight",
        tensor_types=types(T.F16, ffn_gate=T.BF16, ffn_up=T.BF16, ffn_down=T.BF16, output=T.BF16),
    ),
    TinyModel(
        name="llama_legacy", arch="llama", seed=3,
        covers="arch llama: Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0 weights; GQA group 2",
        tensor_types=types(T.Q8_0, attn_q=T.Q4_0, attn_k=T.Q5_0, attn_v=T.Q5_1, attn_output=T.Q4_1,
                           ffn_gate=T.Q4_0, ffn_up=T.Q5_0, ffn_down=T.Q5_1),
    ),
    TinyModel(
        name="llama_kquant", arch="llama", seed=4, hidden=256, kv_heads=1,
        covers="arch llama: Q4_K, Q5_K and Q6_K weights (hidden 256, head dim 64); GQA group 4",
        tensor_types=types(T.Q6_K, attn_q=T.Q4_K, attn_k=T.Q5_K, attn_output=T.Q5_K,
                           ffn_gate=T.Q4_K, ffn_up=T.Q5_K),
    ),
    TinyModel(
        name="llama_rope_linear", arch="llama", seed=5,
        covers="arch llama: linear rope scaling (rope.scaling.type linear, factor 4)",
        tensor_types=types(T.Q4_0),
        rope_scaling={"rope_type": "linear", "factor": 4.0},
    ),
    TinyModel(
        name="llama_rope_freqs", arch="llama", seed=6,
        covers="arch llama: Llama-3.1 rope factors in rope_freqs.weight",
        tensor_types=types(T.Q5_0),
        # Llama 3.1 uses original_max_position_embeddings 8192, which at head dim 32 would scale
        # only frequencies too slow to matter within 24 positions; 64 puts the unscaled, smoothed
        # and fully scaled bands all inside the rotary dimensions.
        rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                      "high_freq_factor": 4.0, "original_max_position_embeddings": 64},
    ),
]
UNPERMUTED_OF = "llama_legacy"  # the model tiny_llama_unpermuted.gguf copies without the permutation
UNPERMUTED_FILE = "tiny_llama_unpermuted.gguf"


# ----------------------------------------------------------------------------------------------
# Tokenizer metadata: a byte-level BPE vocabulary the engine's tokenizer accepts. The tests feed
# token ids directly, so the merges only need to be consistent, not good.

def byte_alphabet() -> list[str]:
    """GPT-2's bytes_to_unicode: printable bytes stand for themselves, the rest map to U+0100+."""
    printable = [*range(0x21, 0x7F), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    extra = iter(range(0x100, 0x200))
    return [chr(b) if b in printable else chr(next(extra)) for b in range(256)]


def train_merges(text: str, count: int) -> list[tuple[str, str]]:
    """A minimal BPE trainer: repeatedly merges the most frequent adjacent pair (ties broken by
    the pair's text, so the result is deterministic) over GPT-2-style pre-tokenized words."""
    alphabet = byte_alphabet()
    words: dict[tuple[str, ...], int] = {}
    for word in re.findall(r" ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+", text):
        symbols = tuple(alphabet[b] for b in word.encode("utf-8"))
        words[symbols] = words.get(symbols, 0) + 1
    merges = []
    while len(merges) < count:
        pairs: dict[tuple[str, str], int] = {}
        for symbols, n in words.items():
            for pair in zip(symbols, symbols[1:]):
                pairs[pair] = pairs.get(pair, 0) + n
        if not pairs:
            raise SystemExit(f"the training text allows only {len(merges)} merges, {count} wanted")
        best = min(pairs, key=lambda p: (-pairs[p], p))
        merges.append(best)
        merged = {}
        for symbols, n in words.items():
            out, i = [], 0
            while i < len(symbols):
                if i + 1 < len(symbols) and (symbols[i], symbols[i + 1]) == best:
                    out.append(symbols[i] + symbols[i + 1])
                    i += 2
                else:
                    out.append(symbols[i])
                    i += 1
            merged[tuple(out)] = merged.get(tuple(out), 0) + n
        words = merged
    return merges


def add_tokenizer(writer: gguf.GGUFWriter) -> int:
    merges = train_merges(MERGE_TRAINING_TEXT, MERGE_COUNT)
    tokens = SPECIAL_TOKENS + byte_alphabet() + [a + b for a, b in merges]
    if len(set(tokens)) != len(tokens):
        raise SystemExit("the vocabulary has duplicate tokens")
    token_types = [gguf.TokenType.CONTROL] * len(SPECIAL_TOKENS) + [gguf.TokenType.NORMAL] * (
        len(tokens) - len(SPECIAL_TOKENS))
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("gpt2")
    writer.add_token_list(tokens)
    writer.add_token_types(token_types)
    writer.add_token_merges([f"{a} {b}" for a, b in merges])
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.add_pad_token_id(2)
    writer.add_add_bos_token(False)
    writer.add_chat_template(CHATML_TEMPLATE)
    return len(tokens)


VOCAB_SIZE = len(SPECIAL_TOKENS) + 256 + MERGE_COUNT


# ----------------------------------------------------------------------------------------------
# K-quant quantizers. gguf-py dequantizes Q4_K/Q5_K/Q6_K but cannot quantize them; these are
# plain min/max (Q4_K, Q5_K) and abs-max (Q6_K) quantizers producing valid blocks. Their quality
# is irrelevant: the reference dequantizes the bytes they produce, and they are checked to
# reconstruct their input closely so the weights stay the random draw, not noise.

QK_K = 256


def _f16(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float16)


def _pack_k_scales(sc: np.ndarray, mn: np.ndarray) -> np.ndarray:
    """Packs 8 six-bit scales and mins per block into 12 bytes (inverse of get_scale_min_k4)."""
    s = np.zeros((sc.shape[0], 12), dtype=np.uint8)
    s[:, 0:4] = (sc[:, 0:4] & 63) | ((sc[:, 4:8] >> 4) << 6)
    s[:, 4:8] = (mn[:, 0:4] & 63) | ((mn[:, 4:8] >> 4) << 6)
    s[:, 8:12] = (sc[:, 4:8] & 0xF) | ((mn[:, 4:8] & 0xF) << 4)
    return s


def _quantize_min_max(blocks: np.ndarray, levels: int):
    """Per sub-block of 32: y = d*sc*q - dmin*mn with q in [0, levels]. Returns d, dmin (fp16),
    sc, mn (6-bit) and q, computed with the rounded scales so the codes match what is stored."""
    sub = blocks.reshape(-1, 8, 32)
    low = np.minimum(sub.min(axis=2), 0.0)  # the offset is subtracted, so it must be >= 0
    scale = (sub.max(axis=2) - low) / levels
    offset = -low
    d = _f16(scale.max(axis=1) / 63)
    dmin = _f16(offset.max(axis=1) / 63)
    df, dminf = d.astype(np.float32)[:, None], dmin.astype(np.float32)[:, None]
    sc = np.clip(np.round(np.divide(scale, df, out=np.zeros_like(scale), where=df > 0)), 0, 63)
    mn = np.clip(np.round(np.divide(offset, dminf, out=np.zeros_like(offset), where=dminf > 0)), 0, 63)
    step = (df * sc)[:, :, None]
    shift = (dminf * mn)[:, :, None]
    q = np.clip(np.round(np.divide(sub + shift, step, out=np.zeros_like(sub), where=step > 0)), 0, levels)
    return d, dmin, sc.astype(np.uint8), mn.astype(np.uint8), q.astype(np.uint8)


def _nibbles(q: np.ndarray) -> np.ndarray:
    """Sub-blocks (n, 8, 32) of 4-bit values -> qs[128]: chunk c holds sub-block 2c in the low
    nibbles and 2c+1 in the high nibbles."""
    q = q & 0xF
    return (q[:, 0::2, :] | (q[:, 1::2, :] << 4)).reshape(-1, 128)


def quantize_q4_k(blocks: np.ndarray) -> np.ndarray:
    d, dmin, sc, mn, q = _quantize_min_max(blocks, 15)
    return np.concatenate([d.view(np.uint8).reshape(-1, 2), dmin.view(np.uint8).reshape(-1, 2),
                           _pack_k_scales(sc, mn), _nibbles(q)], axis=1)


def quantize_q5_k(blocks: np.ndarray) -> np.ndarray:
    d, dmin, sc, mn, q = _quantize_min_max(blocks, 31)
    # qh[l] bit j = fifth bit of element l of sub-block j.
    qh = np.zeros((q.shape[0], 32), dtype=np.uint8)
    for j in range(8):
        qh |= ((q[:, j, :] >> 4) & 1) << j
    return np.concatenate([d.view(np.uint8).reshape(-1, 2), dmin.view(np.uint8).reshape(-1, 2),
                           _pack_k_scales(sc, mn), qh, _nibbles(q)], axis=1)


def quantize_q6_k(blocks: np.ndarray) -> np.ndarray:
    sub = blocks.reshape(-1, 16, 16)
    scale = np.abs(sub).max(axis=2) / 31  # codes -31..31 of the available -32..31
    d = _f16(scale.max(axis=1) / 127)
    df = d.astype(np.float32)[:, None]
    sc = np.clip(np.round(np.divide(scale, df, out=np.zeros_like(scale), where=df > 0)), 0, 127)
    step = (df * sc)[:, :, None]
    q = np.clip(np.round(np.divide(sub, step, out=np.zeros_like(sub), where=step != 0)), -32, 31)
    q = (q + 32).astype(np.uint8).reshape(-1, 2, 4, 32)  # [half][quarter][l]: element 128h+32k+l
    q0, q1, q2, q3 = (q[:, :, k] for k in range(4))
    # Per half: ql[l] holds quarters 0 (low nibble) and 2 (high), ql[l+32] quarters 1 and 3;
    # qh[l] holds the top two bits of all four quarters.
    ql = np.concatenate([(q0 & 0xF) | ((q2 & 0xF) << 4), (q1 & 0xF) | ((q3 & 0xF) << 4)], axis=2)
    qh = (q0 >> 4) | ((q1 >> 4) << 2) | ((q2 >> 4) << 4) | ((q3 >> 4) << 6)
    return np.concatenate([ql.reshape(-1, 128), qh.reshape(-1, 64), sc.astype(np.int8).view(np.uint8),
                           d.view(np.uint8).reshape(-1, 2)], axis=1)


K_QUANTIZERS = {T.Q4_K: quantize_q4_k, T.Q5_K: quantize_q5_k, T.Q6_K: quantize_q6_k}


def encode(weight: np.ndarray, qtype: T) -> np.ndarray:
    """The stored form of a (rows, cols) float32 matrix for `qtype`: itself (F32), float16, or
    rows of block bytes (BF16 and the quantized types)."""
    if qtype == T.F32:
        return weight
    if qtype == T.F16:
        return weight.astype(np.float16)
    if qtype in K_QUANTIZERS:
        data = K_QUANTIZERS[qtype](weight.reshape(-1, QK_K)).reshape(weight.shape[0], -1)
    else:
        data = gguf.quants.quantize(weight, qtype)
    # Every quantized tensor must round-trip to roughly the draw it came from.
    restored = gguf.quants.dequantize(data, qtype).reshape(weight.shape)
    error = np.sqrt(np.mean((restored - weight) ** 2) / np.mean(weight ** 2))
    if error > 0.25:
        raise SystemExit(f"{qtype.name} round trip has relative error {error:.3f}")
    return data


# ----------------------------------------------------------------------------------------------
# Weights, in the Hugging Face layout (out_features, in_features).

def draw_weights(model: TinyModel) -> dict[str, np.ndarray]:
    """Random weights scaled so a tiny model behaves like a trained one where the test needs it:
    projections ~ N(0, 1/fan_in) keep every residual contribution of order 1, queries and keys
    are 1.5x that so attention is peaked (a rope bug then changes which keys a query picks; with
    N(0, 0.02) at this width attention would be nearly uniform and hide it), and the embedding
    is scaled so logits have a spread of a few units."""
    rng = np.random.default_rng(model.seed)
    E, F, d = model.hidden, model.ffn, model.head_dim
    q_dim, kv_dim = model.heads * d, model.kv_heads * d

    def normal(shape, std):
        return (rng.standard_normal(shape) * std).astype(np.float32)

    def norm_weight():
        return (1.0 + rng.standard_normal(E) * 0.1).astype(np.float32)

    w = {"model.embed_tokens.weight": normal((VOCAB_SIZE, E), 3.0 / np.sqrt(E))}
    for layer in range(model.layers):
        p = f"model.layers.{layer}."
        w[p + "input_layernorm.weight"] = norm_weight()
        w[p + "self_attn.q_proj.weight"] = normal((q_dim, E), 1.5 / np.sqrt(E))
        w[p + "self_attn.k_proj.weight"] = normal((kv_dim, E), 1.5 / np.sqrt(E))
        w[p + "self_attn.v_proj.weight"] = normal((kv_dim, E), 1.0 / np.sqrt(E))
        w[p + "self_attn.o_proj.weight"] = normal((E, q_dim), 1.0 / np.sqrt(q_dim))
        if model.arch == "qwen2":
            # Qwen2's biases are large (its key biases especially); these must matter too.
            w[p + "self_attn.q_proj.bias"] = normal(q_dim, 0.5)
            w[p + "self_attn.k_proj.bias"] = normal(kv_dim, 0.5)
            w[p + "self_attn.v_proj.bias"] = normal(kv_dim, 0.2)
        w[p + "post_attention_layernorm.weight"] = norm_weight()
        w[p + "mlp.gate_proj.weight"] = normal((F, E), 1.0 / np.sqrt(E))
        w[p + "mlp.up_proj.weight"] = normal((F, E), 1.0 / np.sqrt(E))
        w[p + "mlp.down_proj.weight"] = normal((E, F), 1.0 / np.sqrt(F))
    w["model.norm.weight"] = norm_weight()
    if not model.tied:
        w["lm_head.weight"] = normal((VOCAB_SIZE, E), 3.0 / np.sqrt(E))
    return w


def permute(weight: np.ndarray, heads: int) -> np.ndarray:
    """convert_hf_to_gguf.py's LlamaModel.permute: per head, row 2i+h <- HF row h*(d/2)+i."""
    return (weight.reshape(heads, 2, weight.shape[0] // heads // 2, *weight.shape[1:])
            .swapaxes(1, 2).reshape(weight.shape))


def unpermute(weight: np.ndarray, heads: int) -> np.ndarray:
    """Inverse of permute: per head, HF row h*(d/2)+i <- row 2i+h."""
    return (weight.reshape(heads, weight.shape[0] // heads // 2, 2, *weight.shape[1:])
            .swapaxes(1, 2).reshape(weight.shape))


def llama3_rope_factors(model: TinyModel) -> np.ndarray:
    """rope_freqs.weight as convert_hf_to_gguf.py computes it from a llama3 rope config."""
    s = model.rope_scaling
    dims = model.head_dim
    frequencies = 1.0 / ROPE_THETA ** (np.arange(0, dims, 2, dtype=np.float64) / dims)
    low_wavelen = s["original_max_position_embeddings"] / s["low_freq_factor"]
    high_wavelen = s["original_max_position_embeddings"] / s["high_freq_factor"]
    factors = []
    for frequency in frequencies:
        wavelen = 2 * np.pi / frequency
        if wavelen < high_wavelen:
            factors.append(1.0)
        elif wavelen > low_wavelen:
            factors.append(s["factor"])
        else:
            smooth = ((s["original_max_position_embeddings"] / wavelen - s["low_freq_factor"])
                      / (s["high_freq_factor"] - s["low_freq_factor"]))
            factors.append(1.0 / ((1 - smooth) / s["factor"] + smooth))
    return np.array(factors, dtype=np.float32)


# ----------------------------------------------------------------------------------------------
# Writing the GGUF.

GGUF_NAMES = {  # HF name suffix -> (GGUF name suffix, role for the tensor type; None = F32)
    "input_layernorm.weight": ("attn_norm.weight", None),
    "self_attn.q_proj.weight": ("attn_q.weight", "attn_q"),
    "self_attn.k_proj.weight": ("attn_k.weight", "attn_k"),
    "self_attn.v_proj.weight": ("attn_v.weight", "attn_v"),
    "self_attn.o_proj.weight": ("attn_output.weight", "attn_output"),
    "self_attn.q_proj.bias": ("attn_q.bias", None),
    "self_attn.k_proj.bias": ("attn_k.bias", None),
    "self_attn.v_proj.bias": ("attn_v.bias", None),
    "post_attention_layernorm.weight": ("ffn_norm.weight", None),
    "mlp.gate_proj.weight": ("ffn_gate.weight", "ffn_gate"),
    "mlp.up_proj.weight": ("ffn_up.weight", "ffn_up"),
    "mlp.down_proj.weight": ("ffn_down.weight", "ffn_down"),
}
TOP_LEVEL_NAMES = {
    "model.embed_tokens.weight": ("token_embd.weight", "token_embd"),
    "model.norm.weight": ("output_norm.weight", None),
    "lm_head.weight": ("output.weight", "output"),
}


def gguf_name(hf_name: str) -> tuple[str, str | None]:
    if hf_name in TOP_LEVEL_NAMES:
        return TOP_LEVEL_NAMES[hf_name]
    layer, suffix = re.fullmatch(r"model\.layers\.(\d+)\.(.+)", hf_name).groups()
    name, role = GGUF_NAMES[suffix]
    return f"blk.{layer}.{name}", role


def write_gguf(model: TinyModel, weights: dict[str, np.ndarray], path: Path, permute_qk: bool) -> None:
    writer = gguf.GGUFWriter(path, model.arch)
    writer.add_name(f"tiny {model.name} (random weights, scripts/make_tiny_models.py)")
    writer.add_context_length(CONTEXT_LENGTH)
    writer.add_embedding_length(model.hidden)
    writer.add_block_count(model.layers)
    writer.add_feed_forward_length(model.ffn)
    writer.add_head_count(model.heads)
    writer.add_head_count_kv(model.kv_heads)
    writer.add_layer_norm_rms_eps(RMS_EPS)
    writer.add_rope_dimension_count(model.head_dim)
    writer.add_rope_freq_base(ROPE_THETA)
    if model.rope_scaling and model.rope_scaling["rope_type"] == "linear":
        writer.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        writer.add_rope_scaling_factor(model.rope_scaling["factor"])
    writer.add_vocab_size(VOCAB_SIZE)
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
    if add_tokenizer(writer) != VOCAB_SIZE:
        raise SystemExit("vocabulary size mismatch")

    for hf_name, weight in weights.items():
        name, role = gguf_name(hf_name)
        if model.arch == "llama" and permute_qk:
            if hf_name.endswith("q_proj.weight"):
                weight = permute(weight, model.heads)
            elif hf_name.endswith("k_proj.weight"):
                weight = permute(weight, model.kv_heads)
        qtype = model.tensor_types[role] if role else T.F32
        writer.add_tensor(name, encode(weight, qtype), raw_dtype=qtype)
    if model.rope_scaling and model.rope_scaling["rope_type"] == "llama3":
        writer.add_tensor("rope_freqs.weight", llama3_rope_factors(model))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


# ----------------------------------------------------------------------------------------------
# The reference.

def hf_config(model: TinyModel):
    rope = {"rope_type": "default", "rope_theta": ROPE_THETA}
    if model.rope_scaling:
        rope = {**model.rope_scaling, "rope_theta": ROPE_THETA}
    common = dict(vocab_size=VOCAB_SIZE, hidden_size=model.hidden, intermediate_size=model.ffn,
                  num_hidden_layers=model.layers, num_attention_heads=model.heads,
                  num_key_value_heads=model.kv_heads, head_dim=model.head_dim, rms_norm_eps=RMS_EPS,
                  max_position_embeddings=CONTEXT_LENGTH, rope_parameters=rope,
                  tie_word_embeddings=model.tied, hidden_act="silu")
    if model.arch == "qwen2":
        return Qwen2ForCausalLM, Qwen2Config(**common)
    return LlamaForCausalLM, LlamaConfig(**common)


def weights_from_gguf(model: TinyModel, path: Path) -> dict[str, torch.Tensor]:
    """Dequantizes every tensor of the file with gguf-py and un-permutes Q/K of arch llama:
    the weights a correct reader of these very bytes must use."""
    by_gguf_name = {gguf_name(hf)[0]: hf for hf in draw_weights(model)}  # the draw names them all
    state = {}
    for tensor in gguf.GGUFReader(path).tensors:
        if tensor.name == "rope_freqs.weight":
            continue  # the config's rope_parameters say the same; the test reads the file's
        hf_name = by_gguf_name[tensor.name]
        shape = tuple(int(n) for n in reversed(tensor.shape))
        weight = gguf.quants.dequantize(tensor.data, tensor.tensor_type).reshape(shape).astype(np.float32)
        if model.arch == "llama":
            if hf_name.endswith("q_proj.weight"):
                weight = unpermute(weight, model.heads)
            elif hf_name.endswith("k_proj.weight"):
                weight = unpermute(weight, model.kv_heads)
        state[hf_name] = torch.from_numpy(weight)
    return state


def hand_built_model(model: TinyModel, path: Path):
    cls, config = hf_config(model)
    hf = cls(config)
    missing, unexpected = hf.load_state_dict(weights_from_gguf(model, path), strict=False)
    if unexpected or [m for m in missing if m != "lm_head.weight" or not model.tied]:
        raise SystemExit(f"{path.name}: missing {missing}, unexpected {unexpected}")
    hf.tie_weights()
    return hf.eval()


def gguf_loaded_model(path: Path):
    return AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32).eval()


def run(hf, token_ids: list[int]) -> np.ndarray:
    with torch.no_grad():
        return hf(torch.tensor([token_ids])).logits[0].double().numpy()


def reference(model: TinyModel, path: Path, token_ids: list[int]) -> tuple[np.ndarray, dict]:
    """Logits from transformers, with evidence of which loading path is trustworthy here."""
    hand_built_hf = hand_built_model(model, path)
    hand_built = run(hand_built_hf, token_ids)
    loader = run(gguf_loaded_model(path), token_ids)
    difference = float(np.abs(hand_built - loader).max())
    if model.rope_scaling is None:
        # The GGUF loader is right here; the hand-built model must agree with it, which checks
        # the dequantization, un-permutation and config of the hand-built path.
        if difference > 1e-4:
            raise SystemExit(f"{path.name}: hand-built model differs from the GGUF loader by {difference}")
        return loader, {"reference": "transformers from_pretrained(gguf_file=...)",
                        "hand_built_max_difference": difference}
    # transformers' GGUF loader ignores the scaling; if it ever stops doing so, this tells.
    if difference < 1e-2:
        raise SystemExit(f"{path.name}: the GGUF loader now seems to apply rope scaling "
                         f"(difference {difference}); load the reference from the GGUF instead")
    return hand_built, {
        "reference": f"transformers {type(hand_built_hf).__name__} built from a config "
                     f"with rope_parameters {model.rope_scaling}, weights dequantized by gguf-py",
        "gguf_loader_max_difference": difference,
    }


def describe_positions(logits: np.ndarray, sampled: list[int]) -> list[dict]:
    positions = []
    for row in logits:
        top = np.argsort(-row, kind="stable")[:TOP]
        positions.append({"top_ids": top.tolist(),
                          "top_logits": [round(float(row[i]), 6) for i in top],
                          "sampled_logits": [round(float(row[i]), 6) for i in sampled]})
    return positions


def main() -> None:
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "tests" / "data"
    torch.manual_seed(0)
    rng = np.random.default_rng(2024)
    # <|im_start|> first, then ordinary tokens (bytes and merges) in random order.
    token_ids = [1] + rng.integers(len(SPECIAL_TOKENS), VOCAB_SIZE, SEQUENCE_LENGTH - 1).tolist()
    sampled = sorted(rng.choice(VOCAB_SIZE, SAMPLED_IDS, replace=False).tolist())

    cases = []
    for model in MODELS:
        path = out_dir / model.file_name
        weights = draw_weights(model)
        write_gguf(model, weights, path, permute_qk=True)
        logits, provenance = reference(model, path, token_ids)
        print(f"{path.name}: {path.stat().st_size} bytes, logit std {logits.std():.2f}, {provenance}",
              file=sys.stderr)
        cases.append({"file": model.file_name, "covers": model.covers, **provenance,
                      "positions": describe_positions(logits, sampled)})
        if model.name == UNPERMUTED_OF:
            write_gguf(model, weights, out_dir / UNPERMUTED_FILE, permute_qk=False)

    document = {
        "generator": "scripts/make_tiny_models.py",
        "versions": f"transformers {transformers.__version__}, torch {torch.__version__}, "
                    f"gguf {version('gguf')}, "
                    f"numpy {np.__version__}; float32 on CPU",
        "token_ids": token_ids,
        "sampled_ids": sampled,
        "models": cases,
        "unpermuted": {"file": UNPERMUTED_FILE, "weights_of": f"tiny_{UNPERMUTED_OF}.gguf",
                       "note": "Q/K written without the llama permutation: must match the "
                               "reference at position 0 only"},
    }
    with open(out_dir / REFERENCE_FILE, "w") as f:
        json.dump(document, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
