#!/usr/bin/env bash
# Test-only: `hipreader-cli serve` against real clients. Creates a throwaway virtual environment
# with the official `openai` Python package (from PyPI; never needed to run HiP Reader), starts
# the server on 127.0.0.1 with the default model on the CPU, and runs:
#   1. curl and the openai package: models, chat whole and streamed, a text completion, a book
#      as context (`--doc`) with cited pages, refusals
#   2. time to first token over HTTP (curl's first byte, which comes with the first token)
#      against the engine's own for the same requests (from the server's log)
#   3. a load test: 8 concurrent clients for LOAD_SECONDS (default 120), every request answered,
#      the server's RSS sampled throughout; meanwhile hostile clients: slow senders (408),
#      oversized bodies (413), broken JSON and unknown fields (400), clients that leave mid-answer
#   4. the server stops cleanly on SIGTERM
#
#   scripts/test-openai-client.sh [BUILD_DIR]      (default: build)
#   LOAD_SECONDS=600 scripts/test-openai-client.sh  (the issue's 10 minutes)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build}
cli=$build/bin/hipreader-cli
load_seconds=${LOAD_SECONDS:-120}
[ -x "$cli" ] || { echo "no $cli: build hipreader-cli first" >&2; exit 1; }

work=$(mktemp -d)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

echo "== virtual environment with the openai package"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check openai
"$work/venv/bin/python" -c 'import openai; print("openai", openai.__version__)'

echo "== starting hipreader-cli serve"
key=test-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
cat > "$work/river.md" <<'EOF'
# Birds

Herons nest in the tall alders above the weir. They return to the same trees every March.

# Fish

Eels swim downstream to the sea in autumn. Nobody in the village has ever seen them spawn.

# Mammals

Otters came back to the river ten years ago. Their tracks mark the sandbanks below the mill.
EOF
"$cli" serve --port 0 --api-key "$key" --context 2048 --max-request-bytes 1048576 \
    --doc "$work/river.md" 2> "$work/server.log" &
server_pid=$!
for _ in $(seq 1 600); do
    grep -q '^serving ' "$work/server.log" && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; exit 1; }
    sleep 0.1
done
base=$(sed -n 's/^serving .* at \(http:[^ ]*\).*/\1/p' "$work/server.log")
[ -n "$base" ] || { echo "the server did not start"; cat "$work/server.log"; exit 1; }
echo "server pid $server_pid at $base"

echo "== curl"
model=$(curl -sf -H "Authorization: Bearer $key" "$base/models" |
    "$work/venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])')
echo "model: $model"
curl -sf "$base/chat/completions" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    -d '{"model": "'"$model"'", "messages": [{"role": "user", "content": "Name a colour."}], "max_tokens": 12}'
echo
curl -sfN "$base/chat/completions" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    -d '{"model": "'"$model"'", "messages": [{"role": "user", "content": "Name a colour."}], "max_tokens": 6, "stream": true}' \
    > "$work/stream.txt"
head -c 400 "$work/stream.txt"
echo "... ($(grep -c '^data: ' "$work/stream.txt") events, the last: $(grep '^data: ' "$work/stream.txt" | tail -n 1))"
status=$(curl -s -o /dev/null -w '%{http_code}' "$base/models")
echo "without the key: HTTP $status"; [ "$status" = 401 ]

echo "== time to first token: over HTTP (curl's time to the first byte, sent with the first token) and the engine's own"
before=$(grep -c 'first text after' "$work/server.log" || true)
for i in $(seq 1 20); do
    curl -s -o /dev/null -w '%{time_starttransfer}\n' "$base/chat/completions" \
        -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
        -d '{"model": "'"$model"'", "max_tokens": 4, "stream": true,
             "messages": [{"role": "user", "content": "Say a word about the number '"$i"'."}]}'
done > "$work/curl-ttft.txt"
grep 'first text after' "$work/server.log" | tail -n +$((before + 1)) |
    sed -n 's/.*(engine \([0-9.]*\) ms).*/\1/p' > "$work/engine-ttft.txt"
python3 - "$work/curl-ttft.txt" "$work/engine-ttft.txt" <<'EOF'
import statistics, sys
http = [float(x) * 1000 for x in open(sys.argv[1]).read().split()]
engine = [float(x) for x in open(sys.argv[2]).read().split()]
assert len(http) == len(engine) == 20, (len(http), len(engine))
gaps = [h - e for h, e in zip(http, engine)]
print(f"over HTTP: median {statistics.median(http):.2f} ms; the engine's own (same requests, from arrival "
      f"to its first text): median {statistics.median(engine):.2f} ms; HTTP adds median "
      f"{statistics.median(gaps):.2f} ms (min {min(gaps):.2f}, max {max(gaps):.2f}) over 20 requests")
EOF

cat > "$work/client.py" <<'EOF'
import json, os, resource, socket, statistics, sys, threading, time, urllib.parse
import openai

base, key, model, pid, load_seconds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
client = openai.OpenAI(base_url=base, api_key=key, max_retries=0, timeout=300)
host = urllib.parse.urlparse(base)
failures = []

def check(condition, what):
    print(("ok   " if condition else "FAIL ") + what)
    if not condition:
        failures.append(what)

print("== the openai package")
models = client.models.list()
check([m.id for m in models.data] == [model], f"models.list: {[m.id for m in models.data]}")
whole = client.chat.completions.create(model=model, max_tokens=16,
    messages=[{"role": "system", "content": "Answer in one short sentence."},
              {"role": "user", "content": "What is the capital of France?"}])
text = whole.choices[0].message.content
check(bool(text) and whole.usage.completion_tokens > 0, f"chat, whole: {text!r} usage {whole.usage}")
parts, usage = [], None
stream = client.chat.completions.create(model=model, max_tokens=16, stream=True,
    stream_options={"include_usage": True},
    messages=[{"role": "system", "content": "Answer in one short sentence."},
              {"role": "user", "content": "What is the capital of France?"}])
for chunk in stream:
    if chunk.choices and chunk.choices[0].delta.content:
        parts.append(chunk.choices[0].delta.content)
    if chunk.usage:
        usage = chunk.usage
check("".join(parts) == text, f"chat, streamed in {len(parts)} chunks: the same text")
check(usage is not None and usage.total_tokens == whole.usage.total_tokens, f"streamed usage {usage}")
completion = client.completions.create(model=model, prompt="One, two, three,", max_tokens=8, stop=[" six"])
check(" six" not in completion.choices[0].text, f"completion with a stop: {completion.choices[0].text!r} "
      f"({completion.choices[0].finish_reason})")
try:
    client.chat.completions.create(model=model, messages=[{"role": "user", "content": "x"}], temperature=5)
    check(False, "temperature 5 refused")
except openai.BadRequestError as e:
    check(e.status_code == 400 and e.body.get("param") == "temperature", f"temperature 5 refused: {e.body}")
try:
    openai.OpenAI(base_url=base, api_key="wrong", max_retries=0).models.list()
    check(False, "a wrong key refused")
except openai.AuthenticationError as e:
    check(e.status_code == 401, "a wrong key refused: 401")

book = client.chat.completions.create(model=model, max_tokens=16,
    messages=[{"role": "user", "content": "Where do herons nest?"}],
    extra_body={"hipreader": {"document": "river.md", "cited_pages": 2}})
cited = (book.model_extra or {}).get("hipreader", {}).get("cited_pages", [])
check(len(cited) > 0, f"a book as context: {book.choices[0].message.content!r}, cited pages "
      f"{[(p['page'], round(p['weight'], 2)) for p in cited]}")
print("== time to first token through the openai package (its own overhead included)")
ttft = []
for i in range(20):
    start = time.perf_counter()
    stream = client.chat.completions.create(model=model, max_tokens=4, stream=True,
        messages=[{"role": "user", "content": f"Say a word about the number {i}."}])
    first = None
    for chunk in stream:
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.perf_counter() - start
    ttft.append(first * 1000)
print(f"client-side time to first token: median {statistics.median(ttft):.2f} ms "
      f"(min {min(ttft):.2f}, max {max(ttft):.2f}) over {len(ttft)} requests")

def rss_kib():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

def raw(data, read=True, timeout=60):
    s = socket.create_connection((host.hostname, host.port), timeout=timeout)
    try:
        s.sendall(data)
        if not read:
            return b""
        out = b""
        while True:
            try:
                piece = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break
            if not piece:
                break
            out += piece
        return out
    finally:
        s.close()

def post(body, extra=b""):
    return (f"POST {host.path}/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
            f"Content-Type: application/json\r\nConnection: close\r\nContent-Length: {len(body)}\r\n").encode() + extra + b"\r\n" + body

print(f"== load: 8 clients for {load_seconds:.0f} s, with hostile clients alongside")
stop_at = time.monotonic() + load_seconds
counts = {"requests": 0, "errors": 0, "tokens": 0}
lock = threading.Lock()
questions = ["What is a river?", "Name three fruits.", "Why is the sky blue?", "Write a haiku about rain.",
             "What is 2 + 2?", "Describe a cat.", "Who wrote Hamlet?", "What is light?"]

workers_done = []

def worker(n):
    c = openai.OpenAI(base_url=base, api_key=key, max_retries=0, timeout=300)
    i = 0
    while time.monotonic() < stop_at:
        i += 1
        q = questions[(n + i) % len(questions)]
        try:
            if i % 2:
                r = c.chat.completions.create(model=model, max_tokens=24, messages=[{"role": "user", "content": q}])
                ok, tokens = bool(r.choices[0].finish_reason), r.usage.completion_tokens
            else:
                tokens, done = 0, False
                for chunk in c.chat.completions.create(model=model, max_tokens=24, stream=True,
                                                       stream_options={"include_usage": True},
                                                       messages=[{"role": "user", "content": q}]):
                    if chunk.choices and chunk.choices[0].finish_reason:
                        done = True
                    if chunk.usage:
                        tokens = chunk.usage.completion_tokens
                ok = done
            with lock:
                counts["requests"] += 1
                counts["tokens"] += tokens
                if not ok:
                    counts["errors"] += 1
        except Exception as e:
            with lock:
                counts["requests"] += 1
                counts["errors"] += 1
            print(f"client {n}: {type(e).__name__}: {e}")
    workers_done.append(time.monotonic())

hostile = {"408": 0, "413": 0, "400": 0, "left": 0, "other": []}
def hostile_clients():
    slow = []
    for _ in range(10):  # slow senders: a request that trickles in and never ends
        s = socket.create_connection((host.hostname, host.port), timeout=90)
        s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{")
        slow.append(s)
    round_ = 0
    while time.monotonic() < stop_at - 5:
        round_ += 1
        for s in slow:
            try:
                s.sendall(b" ")
            except OSError:
                pass
        checks = [
            ("413", post(b"{" + b" " * (2 << 20) + b"}")),
            ("400", post(b'{"model": "' + model.encode() + b'", "messages": [')),
            ("400", post(json.dumps({"model": model, "messages": [{"role": "user", "content": "x"}],
                                     "surprise": 1}).encode())),
        ]
        for want, data in checks:
            try:
                answer = raw(data)
            except OSError as e:
                answer = str(e).encode()
            if answer.startswith(f"HTTP/1.1 {want}".encode()):
                hostile[want] += 1
            else:
                hostile["other"].append(answer[:80])
        # A client that leaves after the first token: its request is cancelled.
        s = socket.create_connection((host.hostname, host.port), timeout=60)
        body = json.dumps({"model": model, "messages": [{"role": "user", "content": "Tell a long story."}],
                           "max_tokens": 400, "stream": True}).encode()
        s.sendall(post(body))
        got = b""
        while b"data: " not in got:
            piece = s.recv(4096)
            if not piece:
                break
            got += piece
        s.close()
        hostile["left"] += 1
        time.sleep(2)
    for s in slow:
        s.settimeout(60)
        try:
            answer = s.recv(4096)
        except OSError:
            answer = b""
        if answer.startswith(b"HTTP/1.1 408"):
            hostile["408"] += 1
        else:
            hostile["other"].append(answer[:80])
        s.close()

rss = [(0.0, rss_kib())]
threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)] + [threading.Thread(target=hostile_clients)]
begin = time.monotonic()
for t in threads:
    t.start()
while any(t.is_alive() for t in threads):
    time.sleep(5)
    rss.append((time.monotonic() - begin, rss_kib()))
elapsed = time.monotonic() - begin
print("server RSS (MiB) over time: " + ", ".join(f"{t:.0f}s {k / 1024:.0f}" for t, k in rss))
served = max(workers_done) - begin
print(f"{counts['requests']} requests in {served:.0f} s ({counts['requests'] / served:.2f}/s, "
      f"{counts['tokens']} tokens), {counts['errors']} errors")
check(counts["requests"] > 0 and counts["errors"] == 0, "every request of the 8 clients answered")
print(f"hostile: {hostile['413']} oversized bodies 413, {hostile['400']} broken or unknown-field bodies 400, "
      f"{hostile['408']}/10 slow senders 408, {hostile['left']} clients left mid-answer; unexpected: {hostile['other']}")
check(hostile["408"] == 10 and hostile["413"] > 0 and hostile["400"] > 0 and not hostile["other"],
      "hostile clients answered as expected")
settled = [k for t, k in rss if t >= elapsed * 0.25]
growth = (max(settled) - settled[0]) / settled[0]
check(growth < 0.05, f"RSS flat after warm-up: {settled[0] / 1024:.0f} -> max {max(settled) / 1024:.0f} MiB "
      f"({growth * 100:+.1f}%)")
check(client.models.list().data[0].id == model, "the server still answers")
sys.exit(1 if failures else 0)
EOF

echo "== python clients"
client_status=0
"$work/venv/bin/python" "$work/client.py" "$base" "$key" "$model" "$server_pid" "$load_seconds" || client_status=$?

echo "server log: $(grep -c ' 200 ' "$work/server.log") answers, $(grep -c 'cancelled' "$work/server.log") cancelled, $(grep -c ' 4[0-9][0-9]' "$work/server.log") refused"

echo "== stopping the server (SIGTERM)"
kill -TERM "$server_pid"
server_status=0
wait "$server_pid" || server_status=$?
server_pid=
tail -n 1 "$work/server.log"
echo "server exit status $server_status"
[ "$server_status" = 0 ] && [ "$client_status" = 0 ] && echo "PASS" || { echo "FAIL"; exit 1; }
