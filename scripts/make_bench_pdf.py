#!/usr/bin/env python3
"""Writes a long book-like PDF for `hipreader-cli bench documents`: justified-looking text in
Courier with paragraphs, first-line indents, words hyphenated at line ends, chapter headings,
a running header and page numbers (which the reader must leave out).

    scripts/make_bench_pdf.py OUT.pdf [--pages 1000] [--seed 1] [--text FILE]

With --text the paragraphs are those of a real book (a plain-text file, repeated as often as the
pages need), so tokenization sees a real vocabulary; Debian's golang-1.19-src ships one:
/usr/share/go-1.19/src/testdata/Isaac.Newton-Opticks.txt. Without it the text is pseudo-English:
common words and a long tail of made-up ones, drawn with Zipf's law. Either way every run with
the same arguments writes the same file.
"""
import argparse
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_text_pdf import PAGE_WIDTH, write_pdf  # noqa: E402

WORDS = """the river keeper walked along bank each morning before light counting boats that
passed under old stone bridge while herons waited in shallows and otters slipped between reeds
village council argued about flood defences harvest market prices weather lock gates mill
wheel miller daughter letter arrived from city merchant offering money for land nobody wanted
sell because families had farmed valley for generations children learned swim summer evenings
winter brought ice storms broken fences lost sheep careful accounts ledger written neat hand
surveyor measured depth current recorded observations notebook extraordinary unexpected
remarkable consequences administration infrastructure responsibility understanding
particularly circumstances communication environmental""".split()

CHAR_WIDTH = 6.0          # Courier at 10 points
LEFT, RIGHT = 72, 540     # text block, points
COLUMNS = int((RIGHT - LEFT) / CHAR_WIDTH)
TOP, PITCH, LINES = 96, 12, 57
INDENT = 3                # characters


def synthetic_paragraphs(rng):
    """Paragraphs of sentences; half the words common ones, half from 20000 made-up words whose
    frequencies fall off as in natural text (Zipf)."""
    syllables = ['ka', 'lo', 'mer', 'tin', 'sa', 'vel', 'dor', 'pi', 'qua', 'ren', 'sho', 'bal',
                 'nu', 'gre', 'fil', 'ot', 'wan', 'zi', 'chu', 'es']
    rare = sorted({''.join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
                   for _ in range(20000)})
    rng.shuffle(rare)
    cumulative, total = [], 0.0
    for rank in range(1, len(rare) + 1):
        total += 1.0 / rank
        cumulative.append(total)
    while True:
        sentences = []
        for _ in range(rng.randint(3, 8)):
            count = rng.randint(8, 20)
            words = [rng.choice(WORDS) if rng.random() < 0.5 else
                     rng.choices(rare, cum_weights=cumulative)[0] for _ in range(count)]
            words[0] = words[0].capitalize()
            sentences.append(' '.join(words) + rng.choice(['.', '.', '.', '?', '!']))
        yield ' '.join(sentences)


def book_paragraphs(path):
    """The paragraphs (blank-line separated) of a text file, over and over."""
    with open(path, encoding='utf-8', errors='replace') as f:
        paragraphs = [' '.join(p.split()) for p in f.read().split('\n\n')]
    paragraphs = [p for p in paragraphs if p]
    while True:
        yield from paragraphs


def paragraph_lines(rng, text):
    """Greedy line breaking; a long word that does not fit is hyphenated half the time, and a
    word longer than a line (a table row, a formula) is cut into pieces that fit."""
    words = []
    for word in text.split():
        while len(word) >= COLUMNS - INDENT:
            words.append(word[:COLUMNS - INDENT - 1] + '-')
            word = word[COLUMNS - INDENT - 1:]
        words.append(word)
    lines, line, width = [], '', COLUMNS - INDENT
    for word in words:
        candidate = word if not line else line + ' ' + word
        if len(candidate) <= width:
            line = candidate
            continue
        room = width - len(line) - (2 if line else 1)
        if len(word) >= 8 and room >= 3 and rng.random() < 0.5:
            cut = min(room, len(word) - 3)
            lines.append(line + (' ' if line else '') + word[:cut] + '-')
            line = word[cut:]
        else:
            lines.append(line)
            line = word
        width = COLUMNS
    lines.append(line)
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('out')
    parser.add_argument('--pages', type=int, default=1000)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--text', help='a plain-text book to take the paragraphs from')
    args = parser.parse_args()
    rng = random.Random(args.seed)
    source = book_paragraphs(args.text) if args.text else synthetic_paragraphs(rng)

    pages, body, chapter = [], [], 0

    def flush_page():
        number = str(len(pages) + 1)
        head = 'The Benchmark Book'
        lines = [((PAGE_WIDTH - len(head) * CHAR_WIDTH) / 2, 50, head)]
        lines += [(LEFT + x, TOP + i * PITCH, text) for i, (x, text) in enumerate(body)]
        lines.append(((PAGE_WIDTH - len(number) * CHAR_WIDTH) / 2, 810, number))
        pages.append(lines)
        body.clear()

    while len(pages) < args.pages:
        if len(pages) % 20 == 0 and not body:
            chapter += 1
            body.extend([(0, f'Chapter {chapter}'), (0, '')])
        for i, line in enumerate(paragraph_lines(rng, next(source))):
            body.append((INDENT * CHAR_WIDTH if i == 0 else 0, line))
            if len(body) >= LINES:
                flush_page()
                if len(pages) == args.pages:
                    break
        if body:
            body.append((0, ''))  # a blank line between paragraphs
            if len(body) >= LINES:
                flush_page()
    write_pdf(args.out, pages, title='The Benchmark Book', font='Courier', size=10)
    print(f'wrote {args.out}: {len(pages)} pages')


if __name__ == '__main__':
    main()
