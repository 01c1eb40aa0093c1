#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/<target>/.

Seeds are small valid (and a few nearly valid) inputs of each format, so the fuzzer starts deep
inside the readers instead of rediscovering the formats. Files named regression-* in those folders
are inputs of past findings; this script never touches them. Deterministic: rerun it when a format
changes and commit the output.

Usage: tests/fuzz/make_corpus.py
"""
import io
import json
import struct
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent / "corpus"


def write(target, name, data):
    folder = ROOT / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))


# GGUF -------------------------------------------------------------------------------------------
def gguf_string(text):
    data = text.encode("utf-8")
    return struct.pack("<Q", len(data)) + data


def gguf_kv(key, type_id, payload):
    return gguf_string(key) + struct.pack("<I", type_id) + payload


def gguf_file(version, kvs, tensors, alignment=32):
    """tensors: (name, dims, ggml type, data bytes)."""
    head = b"GGUF" + struct.pack("<IQQ", version, len(tensors), len(kvs)) + b"".join(kvs)
    offset = 0
    table = b""
    blobs = b""
    for name, dims, ggml_type, blob in tensors:
        table += gguf_string(name) + struct.pack("<I", len(dims))
        table += b"".join(struct.pack("<Q", d) for d in dims)
        table += struct.pack("<IQ", ggml_type, offset)
        padded = blob + b"\0" * (-len(blob) % alignment)
        blobs += padded
        offset += len(padded)
    body = head + table
    return body + b"\0" * (-len(body) % alignment) + blobs


def gguf_seeds():
    every_type = [
        gguf_kv("general.architecture", 8, gguf_string("llama")),
        gguf_kv("general.alignment", 4, struct.pack("<I", 32)),
        gguf_kv("u8", 0, struct.pack("<B", 7)),
        gguf_kv("i8", 1, struct.pack("<b", -7)),
        gguf_kv("u16", 2, struct.pack("<H", 700)),
        gguf_kv("i16", 3, struct.pack("<h", -700)),
        gguf_kv("i32", 5, struct.pack("<i", -70000)),
        gguf_kv("f32", 6, struct.pack("<f", 0.5)),
        gguf_kv("bool", 7, struct.pack("<B", 1)),
        gguf_kv("u64", 10, struct.pack("<Q", 1 << 40)),
        gguf_kv("i64", 11, struct.pack("<q", -(1 << 40))),
        gguf_kv("f64", 12, struct.pack("<d", 0.25)),
        gguf_kv("strings", 9, struct.pack("<IQ", 8, 2) + gguf_string("a") + gguf_string("bc")),
        gguf_kv("nested", 9, struct.pack("<IQ", 9, 1) + struct.pack("<IQ", 4, 2) +
                struct.pack("<II", 1, 2)),
    ]
    f32_row = struct.pack("<4f", 1.0, -2.0, 0.5, 0.0)
    q8_block = struct.pack("<e", 0.1) + bytes(range(32))
    tensors = [("f32.weight", [4, 2], 0, f32_row * 2), ("q8_0.weight", [32], 8, q8_block)]
    write("gguf", "seed-every-type-v3.gguf", gguf_file(3, every_type, tensors))
    write("gguf", "seed-v2-empty.gguf", gguf_file(2, [], []))
    write("gguf", "seed-header-only", b"GGUF" + struct.pack("<IQQ", 3, 0, 0))


# Tokenizer (byte 0: tokenizer and options) ------------------------------------------------------
def tokenizer_seeds():
    texts = [
        "Hello, world! It's 2024 and the café's naïve résumé costs 3.50€.",
        "<|im_start|>user\nWhat is 12345 + 678?<|im_end|>\n<s> </s> <unk>",
        "  leading spaces\t\ttabs\n\n\nnewlines   and ünïcödé 漢字 😀 ☃",
        "don't won't I'm they're we've you'll he'd",
    ]
    for i, text in enumerate(texts):
        for control in (0x00, 0x0D, 0x16):
            write("tokenizer", f"seed-text{i}-{control:02x}", bytes([control]) + text.encode())
    write("tokenizer", "seed-invalid-utf8", b"\x0c" + b"\xff\xfe\xc3\x28\xe2\x82\xf0\x9f\x98")
    write("tokenizer", "seed-ids", b"\x10" + struct.pack("<6i", 1, 2, 200, -1, 1 << 30, 0))


# Chat template (byte 0: format, default system prompt, generation prompt) -----------------------
def chat_template_seeds():
    def messages(*parts):
        return b"\0".join(bytes([role]) + text.encode() for role, text in parts)

    conversation = messages((0, "You answer briefly."), (1, "Who wrote Opticks?"),
                            (2, "Isaac Newton."), (1, "When?"))
    for control in range(0, 16, 3):
        write("chat_template", f"seed-conversation-{control:02x}", bytes([control]) + conversation)
    templates = {
        "chatml": "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n"
                  "{% endfor %}",
        "llama3": "<|start_header_id|>{{ role }}<|end_header_id|>\n\n{{ content }}<|eot_id|>",
        "llama2": "[INST] <<SYS>>\n{{ system }}\n<</SYS>>\n\n{{ content }} [/INST]",
        "gemma": "<start_of_turn>{{ role }}\n{{ content }}<end_of_turn>\n",
    }
    for name, jinja in templates.items():
        write("chat_template", f"seed-jinja-{name}",
              b"\x08" + b"J" + jinja.encode() + b"\0" + messages((1, "Hi <|im_end|> [INST]")))


# EPUB -------------------------------------------------------------------------------------------
CONTAINER = """<?xml version="1.0"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>
</rootfiles></container>"""


def chapter(title, text):
    return (f'<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
            f"<head><title>{title}</title><style>p {{}}</style></head><body><h1 id=\"top\">{title}"
            f"</h1><p>{text}</p><pre>  kept\n  as is</pre><p id=\"end\">The <em>end</em> &amp; "
            f"after.</p><script>ignored()</script></body></html>")


def epub(opf, files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip")
        z.writestr("META-INF/container.xml", CONTAINER, zipfile.ZIP_DEFLATED)
        z.writestr("OEBPS/content.opf", opf, zipfile.ZIP_DEFLATED)
        for name, content in files.items():
            z.writestr("OEBPS/" + name, content, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def epub_seeds():
    epub3_opf = """<?xml version="1.0"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">
<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Seed Book</dc:title></metadata>
<manifest><item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
<item id="c1" href="text/one.xhtml" media-type="application/xhtml+xml"/>
<item id="c2" href="text/two%20words.xhtml" media-type="application/xhtml+xml"/></manifest>
<spine><itemref idref="c1"/><itemref idref="c2"/></spine></package>"""
    nav = """<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"
xmlns:epub="http://www.idpf.org/2007/ops"><body><nav epub:type="toc"><ol>
<li><a href="text/one.xhtml">One</a><ol><li><a href="text/one.xhtml#end">End of one</a></li>
</ol></li><li><a href="text/two%20words.xhtml">Two</a></li></ol></nav></body></html>"""
    write("epub", "seed-epub3.epub", epub(epub3_opf, {
        "nav.xhtml": nav,
        "text/one.xhtml": chapter("One", "The first chapter tells of light."),
        "text/two words.xhtml": chapter("Two", "The second chapter tells of colours."),
    }))
    epub2_opf = """<?xml version="1.0"?>
<package xmlns="http://www.idpf.org/2007/opf" version="2.0" unique-identifier="id">
<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Seed Two</dc:title></metadata>
<manifest><item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>
<item id="c1" href="c1.html" media-type="application/xhtml+xml"/></manifest>
<spine toc="ncx"><itemref idref="c1"/><itemref idref="missing"/></spine></package>"""
    ncx = """<?xml version="1.0"?><ncx xmlns="http://www.daisy.org/z3986/2005/ncx/"
version="2005-1"><navMap><navPoint id="p1"><navLabel><text>Chapter</text></navLabel>
<content src="c1.html#top"/></navPoint></navMap></ncx>"""
    write("epub", "seed-epub2-ncx.epub", epub(epub2_opf, {
        "toc.ncx": ncx, "c1.html": chapter("Only", "A chapter of an EPUB 2 book.")}))
    write("epub", "seed-chapter.xhtml", chapter("Bare", "XHTML outside an archive."))


# Text and Markdown (byte 0: bit 0 Markdown, page size) ------------------------------------------
def text_seeds():
    paragraph = "The lock keeper opened the gates. Barges came through! Did they? Yes.\n\n"
    markdown = ("# Title\n\nIntro text.\n\n## Section *one*\n\n" + paragraph * 3 +
                "```\n# not a heading\n```\n\n### Deep ###\n\n" + paragraph)
    write("text_pages", "seed-markdown", b"\x81" + markdown.encode())
    write("text_pages", "seed-markdown-small-pages", b"\x41" + markdown.encode())
    write("text_pages", "seed-plain-crlf", b"\x20" + (paragraph * 4).replace("\n", "\r\n").encode())
    write("text_pages", "seed-utf16-bom", b"\x80" + "\ufeffUTF-16 text, ünïcödé.\n".encode("utf-16-le"))
    write("text_pages", "seed-latin1", b"\x80" + "Caf\xe9 na\xefve\n".encode("latin-1"))
    write("text_pages", "seed-no-breaks", b"\x10" + b"x" * 600)


# Chat store --------------------------------------------------------------------------------------
def chat_seeds():
    chat = {
        "format": "hipreader-chat", "version": 1,
        "document": {"path": "/books/opticks.pdf", "title": "Opticks"},
        "messages": [
            {"role": "user", "text": "What is light?", "time": "2026-01-02T03:04:05.006"},
            {"role": "assistant", "text": "Rays, **the book says**.", "time": "2026-01-02T03:04:09.000",
             "note": "stopped",
             "sources": [{"page": 3, "label": "iv", "quote": "rays of light", "weight": 0.625,
                          "begin": 120, "end": 180}]},
        ],
    }
    write("chat_store", "seed-chat.json", json.dumps(chat, indent=4))
    newer = dict(chat, version=2)
    write("chat_store", "seed-newer.json", json.dumps(newer))
    odd = dict(chat, messages=[{"role": "tool"}, 5, {"role": "user", "sources": [1, {"page": "x"}]}])
    write("chat_store", "seed-odd-types.json", json.dumps(odd))
    write("chat_store", "seed-truncated.json", json.dumps(chat)[:150])


gguf_seeds()
tokenizer_seeds()
chat_template_seeds()
epub_seeds()
text_seeds()
chat_seeds()
