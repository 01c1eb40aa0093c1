#!/usr/bin/env python3
"""Dense attention in PyTorch's scaled_dot_product_attention (flash and cuDNN backends): the
baseline for the engine's CUDA attention kernels, run on the same card in the same call as
`hipreader-cli bench kernels`.

Shapes are Llama-3.1-8B's attention: 32 query heads, 8 KV heads, head dim 128, fp16, random
inputs. Prefill is causal over T queries and T keys; decode is one query over T keys, timed as
CUDA-graph replays. KV heads are expanded to 32 when a backend does not take grouped-query
attention directly (the engine's kernels read the 8 KV heads once). Prints a markdown table and
optionally writes JSON.

usage: bench_sdpa.py [--tokens 4096,8192,...] [--json FILE]
"""

import argparse
import json
import statistics

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

HEADS, KV_HEADS, HEAD_DIM = 32, 8, 128
BACKENDS = {"flash": SDPBackend.FLASH_ATTENTION, "cudnn": SDPBackend.CUDNN_ATTENTION}


def median_ms(fn, repeat: int) -> float:
    """Median of CUDA-event timings after a warm-up."""
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeat):
        begin, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        begin.record()
        fn()
        end.record()
        end.synchronize()
        times.append(begin.elapsed_time(end))
    return statistics.median(times)


def graph_ms(fn, repeat: int, inner: int = 20) -> float:
    """Median time of one call, from replays of a CUDA graph holding `inner` calls."""
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for _ in range(inner):
            fn()
    return median_ms(graph.replay, repeat) / inner


def attention(backend, q, k, v, causal):
    """SDPA on one backend; grouped-query directly if it can, else with KV heads expanded."""
    with sdpa_kernel(backend):
        try:
            return F.scaled_dot_product_attention(q, k, v, is_causal=causal, enable_gqa=True), "gqa"
        except RuntimeError:
            group = q.shape[1] // k.shape[1]
            k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
            return F.scaled_dot_product_attention(q, k, v, is_causal=causal), "expanded"


def bench(tokens: int, name: str, backend) -> dict:
    torch.manual_seed(tokens)
    q = torch.randn(1, HEADS, tokens, HEAD_DIM, device="cuda", dtype=torch.float16)
    k = torch.randn(1, KV_HEADS, tokens, HEAD_DIM, device="cuda", dtype=torch.float16)
    v = torch.randn(1, KV_HEADS, tokens, HEAD_DIM, device="cuda", dtype=torch.float16)
    result = {"tokens": tokens, "backend": name}
    try:
        _, mode = attention(backend, q, k, v, True)
        if mode == "expanded":
            group = HEADS // KV_HEADS
            k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)

        def prefill():
            with sdpa_kernel(backend):
                F.scaled_dot_product_attention(q, k, v, is_causal=True,
                                               enable_gqa=mode == "gqa")

        result["kv"] = mode
        ms = median_ms(prefill, 5 if tokens > 32768 else 10)
        flops = 4.0 * HEAD_DIM * HEADS * tokens * (tokens + 1) / 2
        result["prefill_ms"] = ms
        result["prefill_tflops"] = flops / (ms * 1e-3) / 1e12
    except RuntimeError as error:
        result["prefill_error"] = str(error).splitlines()[0][:120]
    try:
        q1 = q[:, :, -1:, :].contiguous()
        mode = result.get("kv", "gqa")

        def decode():
            with sdpa_kernel(backend):
                F.scaled_dot_product_attention(q1, k, v, enable_gqa=mode == "gqa")

        result["decode_us"] = 1000.0 * graph_ms(decode, 20)
    except RuntimeError as error:
        result["decode_error"] = str(error).splitlines()[0][:120]
    del q, k, v
    torch.cuda.empty_cache()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", default="4096,8192,16384,32768,65536,131072")
    parser.add_argument("--json")
    args = parser.parse_args()
    results = [bench(int(t), name, backend)
               for t in args.tokens.split(",") for name, backend in BACKENDS.items()]
    print(f"\nPyTorch {torch.__version__} SDPA on {torch.cuda.get_device_name()}, "
          f"{HEADS}/{KV_HEADS} heads x {HEAD_DIM}, fp16\n")
    print("| T | backend | KV | prefill ms | prefill TFLOP/s | decode us |")
    print("|---|---|---|---|---|---|")
    for r in results:
        prefill = (f"{r['prefill_ms']:.2f} | {r['prefill_tflops']:.0f}" if "prefill_ms" in r
                   else f"{r.get('prefill_error', '-')} | -")
        decode = f"{r['decode_us']:.1f}" if "decode_us" in r else r.get("decode_error", "-")
        print(f"| {r['tokens']} | {r['backend']} | {r.get('kv', '-')} | {prefill} | {decode} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": torch.cuda.get_device_name(), "torch": torch.__version__,
                       "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
