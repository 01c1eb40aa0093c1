#!/usr/bin/env python3
"""Builds the tokenizer and chat-template goldens in tests/data from independent implementations:
Hugging Face `tokenizers` for byte-level BPE, Python `sentencepiece` for SentencePiece, and
`jinja2` for chat templates. tests/test_tokenizer.cpp and tests/test_chat_template.cpp check
the engine against them.

Outputs (all in tests/data):
  tokenizer_golden_smollm2.txt    ids of the default model (SmolLM2, pre-tokenizer "smollm")
  tokenizer_llama_bpe.gguf        a small byte-level BPE trained here with Llama 3's regex
  tokenizer_golden_llama_bpe.txt    ... and its reference ids
  tokenizer_qwen2.gguf            the same with Qwen2's regex (single digits)
  tokenizer_golden_qwen2.txt
  tokenizer_spm.gguf              a small SentencePiece BPE model with byte fallback
  tokenizer_spm.model               ... the same model as sentencepiece wrote it
  tokenizer_golden_spm.txt
  tokenizer_chat_golden.json      chat prompts rendered by jinja2 from the SmolLM2 template
                                  and from representative ChatML/Llama 3/Llama 2/Gemma templates

The reference for SmolLM2 is NOT transformers' GGUF loader: transformers (checked with 5.x)
rebuilds a plain ByteLevel pre-tokenizer from the GGUF and loses SmolLM2's digit splitting, so
e.g. "| 1885 |          412" tokenizes differently from the real tokenizer.json. This script
therefore builds the `tokenizers` object itself from the GGUF vocabulary and merges, with the
pre-tokenizer of SmolLM2's tokenizer.json: Sequence[Digits(individual_digits=True),
ByteLevel(add_prefix_space=False, use_regex=True)]. It prints how many corpus lines the
transformers loader gets wrong, as a reminder of why.

Golden text format, one encode per line:
  <addSpecial> <parseSpecial> <text> : <ids separated by spaces>
where <text> is "corpus:<begin>-<end>" (a byte range of tokenizer_corpus.txt) or "hex:<UTF-8
bytes in hex>". Lines starting with '#' are comments.

Usage (from anywhere; no network needed):
  python3 scripts/make_tokenizer_golden.py [--model models/SmolLM2-135M-Instruct.Q4_1.gguf]
"""

import argparse
import importlib.metadata
import io
import json
import os
import re
import sys
from pathlib import Path

import gguf
import jinja2
import jinja2.sandbox
import sentencepiece as spm
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
CORPUS = DATA / "tokenizer_corpus.txt"

# Token types as tokenizer.ggml.token_type stores them.
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6

# The pre-tokenizer regexes of the real tokenizer.json files.
LLAMA3_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
QWEN2_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)

SYNTHETIC_BPE_VOCAB_SIZE = 1800
SYNTHETIC_SPM_VOCAB_SIZE = 1500


def package_versions() -> str:
    names = ["tokenizers", "transformers", "sentencepiece", "gguf", "jinja2"]
    return ", ".join(f"{name} {importlib.metadata.version(name)}" for name in names)


# ---------------------------------------------------------------------------------------------
# Texts


def corpus_text() -> str:
    return CORPUS.read_bytes().decode("utf-8")


def corpus_lines(text: str) -> list[tuple[int, int]]:
    """Byte ranges of every line of the corpus, with its '\\n'."""
    raw = text.encode("utf-8")
    units = []
    begin = 0
    while begin < len(raw):
        end = raw.find(b"\n", begin)
        end = len(raw) if end < 0 else end + 1
        units.append((begin, end))
        begin = end
    return units


def corpus_paragraphs(text: str) -> list[tuple[int, int]]:
    """Byte ranges of the paragraphs: each ends after a run of two or more newlines."""
    raw = text.encode("utf-8")
    ends = [m.end() for m in re.finditer(rb"\n\n+", raw)]
    if not ends or ends[-1] != len(raw):
        ends.append(len(raw))
    return list(zip([0] + ends[:-1], ends))


def chat_prompt_examples() -> list[str]:
    """Texts with special-token literals, for parseSpecial on and off."""
    return [
        "<|im_start|>user\nHi<|im_end|>\n",
        "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nWhat is 12+30?<|im_end|>\n"
        "<|im_start|>assistant\n",
        "text<|endoftext|>more text",
        "<|im_start|><|im_end|><|im_start|>",
        "<|im_start without its end, and <|im_end|",
        "<repo_name>hip/reader<file_sep>main.cpp\n",
        "control\x04bytes\x1d that SmolLM2 has no token for\x06!",
        "",
        " ",
        "x",
    ]


# ---------------------------------------------------------------------------------------------
# Golden files


def write_golden(path: Path, title: str, reference: str, cases: list[tuple[bool, bool, str]],
                 encode) -> None:
    """cases: (addSpecial, parseSpecial, text); text is 'corpus:B-E' or a literal."""
    corpus = CORPUS.read_bytes()
    lines = [
        f"# Tokenizer golden: {title}",
        f"# Generated by scripts/make_tokenizer_golden.py with {package_versions()}. Do not edit.",
        f"# Reference: {reference}",
        "# Format: <addSpecial> <parseSpecial> <text> : <ids>; text is corpus:<begin>-<end> "
        "(bytes of tokenizer_corpus.txt) or hex:<UTF-8>",
    ]
    for add_special, parse_special, text in cases:
        if text.startswith("corpus:"):
            begin, end = map(int, text[len("corpus:"):].split("-"))
            literal = corpus[begin:end].decode("utf-8")
            source = text
        else:
            literal = text
            source = "hex:" + text.encode("utf-8").hex()
            lines.append("# " + json.dumps(text, ensure_ascii=False))
        ids = encode(literal, add_special, parse_special)
        lines.append(f"{int(add_special)} {int(parse_special)} {source} : "
                     + " ".join(map(str, ids)))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size} bytes, {len(cases)} cases)")


def standard_cases(units: list[tuple[int, int]],
                   special_texts: list[str]) -> list[tuple[bool, bool, str]]:
    cases = [(False, False, f"corpus:{b}-{e}") for b, e in units]
    cases.append((True, False, "corpus:0-200"))
    for text in special_texts:
        cases.append((True, True, text))
        cases.append((False, False, text))
    return cases


# ---------------------------------------------------------------------------------------------
# Byte-level BPE references


def read_gguf_vocab(path: Path) -> dict:
    reader = gguf.GGUFReader(path)

    def strings(key):
        field = reader.fields[key]
        return [bytes(field.parts[i]).decode("utf-8") for i in field.data]

    def ints(key):
        field = reader.fields[key]
        return [int(field.parts[i][0]) for i in field.data]

    def scalar(key):
        field = reader.fields.get(key)
        return None if field is None else field.contents()

    return {
        "tokens": strings("tokenizer.ggml.tokens"),
        "types": ints("tokenizer.ggml.token_type"),
        "merges": strings("tokenizer.ggml.merges") if "tokenizer.ggml.merges" in reader.fields
        else [],
        "pre": scalar("tokenizer.ggml.pre"),
        "bos": scalar("tokenizer.ggml.bos_token_id"),
        "add_bos": scalar("tokenizer.ggml.add_bos_token"),
        "chat_template": scalar("tokenizer.chat_template"),
    }


def split_merge(merge: str) -> tuple[str, str]:
    # As llama.cpp reads GGUF merges: the separator is the first space after position 0.
    space = merge.index(" ", 1)
    return merge[:space], merge[space + 1:]


def byte_level_reference(vocab: dict, pre_tokenizer, ignore_merges: bool) -> Tokenizer:
    tokens, types = vocab["tokens"], vocab["types"]
    model = models.BPE(
        vocab={token: i for i, token in enumerate(tokens)},
        merges=[split_merge(m) for m in vocab["merges"]],
        ignore_merges=ignore_merges,
    )
    tokenizer = Tokenizer(model)
    tokenizer.pre_tokenizer = pre_tokenizer
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.add_special_tokens([
        AddedToken(token, special=True, normalized=False)
        for token, kind in zip(tokens, types) if kind == CONTROL
    ])
    return tokenizer


def bpe_encoder(tokenizer: Tokenizer, bos: int | None, adds_bos: bool):
    def encode(text: str, add_special: bool, parse_special: bool) -> list[int]:
        # `encode_special_tokens` makes the added-token splitter ignore special tokens.
        tokenizer.encode_special_tokens = not parse_special
        ids = tokenizer.encode(text, add_special_tokens=False).ids
        if add_special and adds_bos and bos is not None:
            ids = [bos] + ids
        return ids
    return encode


def check_transformers_loader(model_path: Path, reference: Tokenizer) -> None:
    """Counts corpus lines where transformers' GGUF tokenizer disagrees with the reference."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoTokenizer
    from transformers.utils import logging as hf_logging
    hf_logging.set_verbosity_error()
    loaded = AutoTokenizer.from_pretrained(str(model_path.parent), gguf_file=model_path.name)
    reference.encode_special_tokens = True
    raw = corpus_text().encode("utf-8")
    lines = [raw[begin:end].decode("utf-8") for begin, end in corpus_lines(corpus_text())]
    differing = sum(1 for line in lines
                    if loaded(line, add_special_tokens=False).input_ids
                    != reference.encode(line, add_special_tokens=False).ids)
    print(f"transformers' GGUF tokenizer differs from SmolLM2's real pre-tokenizer on "
          f"{differing} corpus lines (not used as the reference)")


def make_smollm2_golden(model_path: Path) -> dict:
    vocab = read_gguf_vocab(model_path)
    assert vocab["pre"] == "smollm", vocab["pre"]
    pre = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    reference = byte_level_reference(vocab, pre, ignore_merges=False)
    check_transformers_loader(model_path, reference)
    chat = render_smollm2_chat_examples(vocab["chat_template"])
    write_golden(
        DATA / "tokenizer_golden_smollm2.txt",
        f"SmolLM2-135M-Instruct ({model_path.name})",
        "tokenizers BPE from the GGUF vocab+merges, pre-tokenizer Sequence[Digits(individual), "
        "ByteLevel(regex)]",
        standard_cases([(0, len(corpus_text().encode()))] + corpus_lines(corpus_text()),
                       chat_prompt_examples() + chat),
        bpe_encoder(reference, vocab["bos"], bool(vocab["add_bos"])),
    )
    return vocab


def train_byte_level_bpe(regex: str, special_tokens: list[str]) -> Tokenizer:
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(regex), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    trainer = trainers.BpeTrainer(
        vocab_size=SYNTHETIC_BPE_VOCAB_SIZE,
        special_tokens=special_tokens,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(corpus_text().splitlines(keepends=True), trainer)
    return tokenizer


def unmergeable_words(trained: Tokenizer, count: int) -> list[str]:
    """The most frequent corpus pieces that BPE splits into three or more tokens, in GPT-2's
    byte alphabet. Added to the vocabulary without merges, they are reachable only through
    ignore_merges, like many whole-word tokens of the real Llama 3 vocabulary."""
    frequency: dict[str, int] = {}
    for line in corpus_text().splitlines(keepends=True):
        for piece, _ in trained.pre_tokenizer.pre_tokenize_str(line):
            frequency[piece] = frequency.get(piece, 0) + 1
    long_pieces = [piece for piece in frequency
                   if len(trained.model.tokenize(piece)) >= 3 and piece.strip("Ġ").isalpha()]
    long_pieces.sort(key=lambda piece: (-frequency[piece], piece))
    return long_pieces[:count]


def write_byte_level_gguf(path: Path, trained: Tokenizer, pre: str, special_tokens: list[str],
                          bos: str, eos: str, add_bos: bool, extra_tokens: list[str]) -> None:
    model = json.loads(trained.to_str())["model"]
    by_id = sorted(model["vocab"].items(), key=lambda item: item[1])
    tokens = [token for token, _ in by_id]
    assert [i for _, i in by_id] == list(range(len(tokens)))
    tokens += extra_tokens
    merges = [" ".join(pair) for pair in model["merges"]]
    writer = gguf.GGUFWriter(path, arch="llama")
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre(pre)
    writer.add_token_list(tokens)
    writer.add_token_types([CONTROL if t in special_tokens else NORMAL for t in tokens])
    writer.add_token_merges(merges)
    writer.add_bos_token_id(tokens.index(bos))
    writer.add_eos_token_id(tokens.index(eos))
    writer.add_add_bos_token(add_bos)
    write_gguf(writer)


def write_gguf(writer: gguf.GGUFWriter) -> None:
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    size = Path(writer.path).stat().st_size
    print(f"wrote {Path(writer.path).relative_to(ROOT)} ({size} bytes)")


def make_synthetic_bpe_golden(name: str, pre: str, regex: str, special_tokens: list[str],
                              bos: str, eos: str, add_bos: bool, ignore_merges: bool,
                              special_texts: list[str]) -> None:
    gguf_path = DATA / f"tokenizer_{name}.gguf"
    trained = train_byte_level_bpe(regex, special_tokens)
    extra_tokens = unmergeable_words(trained, 40) if ignore_merges else []
    write_byte_level_gguf(gguf_path, trained, pre, special_tokens, bos, eos, add_bos,
                          extra_tokens)
    vocab = read_gguf_vocab(gguf_path)
    pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(regex), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    reference = byte_level_reference(vocab, pre_tokenizer, ignore_merges)
    if ignore_merges:
        plain = byte_level_reference(vocab, pre_tokenizer, ignore_merges=False)
        text = corpus_text()
        changed = sum(1 for line in text.splitlines(keepends=True)
                      if plain.encode(line).ids != reference.encode(line).ids)
        print(f"{name}: {len(extra_tokens)} whole-word tokens without merges added; "
              f"ignore_merges changes the ids of {changed} corpus lines")
    write_golden(
        DATA / f"tokenizer_golden_{name}.txt",
        f"synthetic byte-level BPE '{pre}' ({gguf_path.name}, trained on the corpus)",
        f"tokenizers BPE(ignore_merges={ignore_merges}) from the GGUF vocab+merges, pre-tokenizer "
        "Sequence[Split(regex, isolated), ByteLevel(no regex)]",
        standard_cases(corpus_paragraphs(corpus_text()), special_texts),
        bpe_encoder(reference, vocab["bos"], add_bos),
    )


# ---------------------------------------------------------------------------------------------
# SentencePiece reference


def make_spm_golden() -> None:
    model = io.BytesIO()
    # Llama's training settings: BPE, byte fallback, digits split, whitespace-only pieces, and
    # no normalization besides the dummy prefix and space escaping.
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter([line for line in corpus_text().split("\n") if line.strip()]),
        model_writer=model,
        model_type="bpe",
        vocab_size=SYNTHETIC_SPM_VOCAB_SIZE,
        byte_fallback=True,
        split_digits=True,
        allow_whitespace_only_pieces=True,
        normalization_rule_name="identity",
        remove_extra_whitespaces=False,
        add_dummy_prefix=True,
        user_defined_symbols=["<|user|>"],
        hard_vocab_limit=False,
        num_threads=1,
        max_sentence_length=100000,
        minloglevel=2,
    )
    processor = spm.SentencePieceProcessor(model_proto=model.getvalue())
    model_path = DATA / "tokenizer_spm.model"
    model_path.write_bytes(model.getvalue())
    print(f"wrote {model_path.relative_to(ROOT)} ({model_path.stat().st_size} bytes)")
    count = processor.get_piece_size()

    def piece_type(i: int) -> int:
        if processor.is_unknown(i):
            return UNKNOWN
        if processor.is_control(i):
            return CONTROL
        if processor.is_byte(i):
            return BYTE
        if processor.is_unused(i):
            return UNUSED
        if processor.id_to_piece(i) == "<|user|>":
            return USER_DEFINED
        return NORMAL

    gguf_path = DATA / "tokenizer_spm.gguf"
    writer = gguf.GGUFWriter(gguf_path, arch="llama")
    writer.add_tokenizer_model("llama")
    writer.add_token_list([processor.id_to_piece(i) for i in range(count)])
    writer.add_token_scores([processor.get_score(i) for i in range(count)])
    writer.add_token_types([piece_type(i) for i in range(count)])
    writer.add_bos_token_id(processor.bos_id())
    writer.add_eos_token_id(processor.eos_id())
    writer.add_unk_token_id(processor.unk_id())
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    writer.add_add_space_prefix(True)
    write_gguf(writer)

    def encode(text: str, add_special: bool, parse_special: bool) -> list[int]:
        # Control-token literals are cut out first, as the engine's front end does; every
        # remaining fragment gets its own dummy prefix (llama.cpp's behaviour).
        ids = [processor.bos_id()] if add_special else []
        pattern = "(<s>|</s>|<unk>)" if parse_special else None
        fragments = re.split(pattern, text) if pattern else [text]
        for fragment in fragments:
            if parse_special and fragment in ("<s>", "</s>", "<unk>"):
                ids.append(processor.piece_to_id(fragment))
            elif fragment:
                ids.extend(processor.encode(fragment))
        return ids

    special_texts = [
        "<s>[INST] Hello there [/INST] Hi!</s><s>[INST] Again [/INST]",
        "before<|user|>after <|user|> spaced",
        " leading space",
        "  two leading spaces",
        "\n newline first",
        "tab\tand\nnewline",
        "",
    ]
    write_golden(
        DATA / "tokenizer_golden_spm.txt",
        f"synthetic SentencePiece BPE ({gguf_path.name}, trained on the corpus)",
        "Python sentencepiece with the trained model; control tokens cut out first",
        standard_cases(corpus_paragraphs(corpus_text()), special_texts),
        encode,
    )


# ---------------------------------------------------------------------------------------------
# Chat templates

# Representative templates, written for these tests in the style of the models' own.
QWEN25_STYLE_TEMPLATE = (
    "{%- if messages[0]['role'] == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful "
    "assistant.<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- for message in messages %}"
    "{%- if not (message.role == 'system' and loop.first) %}"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

LLAMA3_TEMPLATE = (
    "{% set loop_messages = messages %}{% for message in loop_messages %}"
    "{% set content = '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'"
    " + message['content'] | trim + '<|eot_id|>' %}"
    "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}"
    "{{ content }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}"
    "{% endif %}"
)

LLAMA2_TEMPLATE = (
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
    "{% set system_message = messages[0]['content'] %}"
    "{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}"
    "{% for message in loop_messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}"
    "{% if loop.index0 == 0 and system_message != false %}"
    "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}"
    "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ ' ' + content.strip() + ' ' + eos_token }}"
    "{% endif %}{% endfor %}"
)

GEMMA_TEMPLATE = (
    "{{ bos_token }}"
    "{%- if messages[0]['role'] == 'system' -%}"
    "{%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}"
    "{%- set loop_messages = messages[1:] -%}"
    "{%- else -%}{%- set first_user_prefix = '' -%}{%- set loop_messages = messages -%}"
    "{%- endif -%}"
    "{%- for message in loop_messages -%}"
    "{%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{%- endif -%}"
    "{%- if message['role'] == 'assistant' -%}{%- set role = 'model' -%}"
    "{%- else -%}{%- set role = message['role'] -%}{%- endif -%}"
    "{{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else '') }}"
    "{{ message['content'] | trim }}"
    "{{ '<end_of_turn>\n' }}"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}{{ '<start_of_turn>model\n' }}{%- endif -%}"
)

CONVERSATIONS = {
    "single": [
        {"role": "user", "content": "What's the capital of France?"},
    ],
    "single_with_system": [
        {"role": "system", "content": "You answer in one word."},
        {"role": "user", "content": "What's the capital of France?"},
    ],
    "multi_turn": [
        {"role": "user", "content": "Hi! Can you count to three?"},
        {"role": "assistant", "content": "Sure: 1, 2, 3."},
        {"role": "user", "content": "Now backwards, please."},
    ],
    "multi_turn_with_system": [
        {"role": "system", "content": "You are a careful librarian.\nCite page numbers."},
        {"role": "user", "content": "  Where is the lighthouse first mentioned?  "},
        {"role": "assistant", "content": "On page 3, in the first paragraph.\n"},
        {"role": "user", "content": "And the boy? Answer in Ελληνικά, 🚀 optional.\n\n"},
        {"role": "assistant", "content": "Ο Τόμας εμφανίζεται στη σελίδα 5."},
        {"role": "user", "content": "Thanks!"},
    ],
}


def jinja_environment() -> jinja2.Environment:
    # The environment transformers renders chat templates with.
    environment = jinja2.sandbox.ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    environment.globals["raise_exception"] = raise_exception
    return environment


def render_template(jinja: str, bos: str, eos: str, messages: list[dict],
                    add_generation_prompt: bool) -> str:
    rendered = jinja_environment().from_string(jinja).render(
        messages=messages, add_generation_prompt=add_generation_prompt,
        bos_token=bos, eos_token=eos)
    # The engine's tokenizer adds BOS itself, so rendered prompts start without it.
    return rendered[len(bos):] if bos and rendered.startswith(bos) else rendered


def render_smollm2_chat_examples(jinja: str) -> list[str]:
    return [render_template(jinja, "", "<|im_end|>", CONVERSATIONS[name], True)
            for name in ("single", "multi_turn_with_system")]


def make_chat_golden(smollm2_template: str) -> None:
    templates = [
        ("smollm2", "the model's GGUF", smollm2_template, "chatml", "", "<|im_end|>",
         "You are a helpful AI assistant named SmolLM, trained by Hugging Face"),
        ("qwen2.5-style", "this script", QWEN25_STYLE_TEMPLATE, "chatml", "", "<|im_end|>",
         "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."),
        ("llama3", "this script", LLAMA3_TEMPLATE, "llama3", "<|begin_of_text|>", "<|eot_id|>", ""),
        ("llama2", "this script", LLAMA2_TEMPLATE, "llama2", "<s>", "</s>", ""),
        ("gemma", "this script", GEMMA_TEMPLATE, "gemma", "<bos>", "<eos>", ""),
    ]
    golden = {
        "generator": f"scripts/make_tokenizer_golden.py with {package_versions()}",
        "note": "rendered = jinja2 output (transformers' environment) without the leading BOS",
        "templates": [],
    }
    for name, source, jinja, chat_format, bos, eos, default_system in templates:
        cases = []
        for conversation, messages in CONVERSATIONS.items():
            for add_generation_prompt in (True, False):
                cases.append({
                    "conversation": conversation,
                    "add_generation_prompt": add_generation_prompt,
                    "messages": messages,
                    "rendered": render_template(jinja, bos, eos, messages, add_generation_prompt),
                })
        golden["templates"].append({
            "name": name, "template_source": source, "format": chat_format,
            "default_system_prompt": default_system, "jinja": jinja, "cases": cases,
        })
    path = DATA / "tokenizer_chat_golden.json"
    path.write_text(json.dumps(golden, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size} bytes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path,
                        default=ROOT / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf")
    args = parser.parse_args()
    if not args.model.exists():
        sys.exit(f"{args.model} is missing: run scripts/setup first")

    smollm2 = make_smollm2_golden(args.model)
    make_synthetic_bpe_golden(
        "llama_bpe", "llama-bpe", LLAMA3_REGEX,
        ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
         "<|eot_id|>"],
        "<|begin_of_text|>", "<|eot_id|>", add_bos=True, ignore_merges=True,
        special_texts=[
            "<|start_header_id|>user<|end_header_id|>\n\nHello 12345!<|eot_id|>",
            "It'S, WE'RE and you'LL: 1234567 items.\r\n\r\n",
            "",
        ])
    make_synthetic_bpe_golden(
        "qwen2", "qwen2", QWEN2_REGEX, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        "<|endoftext|>", "<|im_end|>", add_bos=False, ignore_merges=False,
        special_texts=chat_prompt_examples()[:5])
    make_spm_golden()
    make_chat_golden(smollm2["chat_template"])


if __name__ == "__main__":
    main()
