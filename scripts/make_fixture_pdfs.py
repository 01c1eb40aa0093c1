#!/usr/bin/env python3
"""Writes the PDF fixtures of tests/test_document_pdf.cpp that QPdfWriter cannot make:

  tests/data/document_labels_outline.pdf  page labels (i, ii, then 1, 2) and a nested outline
  tests/data/document_encrypted.pdf       the same, AES-256 encrypted with qpdf; user password
                                          "open sesame"

Needs qpdf (Debian package qpdf).  Run from anywhere:  scripts/make_fixture_pdfs.py
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_text_pdf import write_pdf  # noqa: E402

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tests', 'data')
PASSWORD = 'open sesame'

# One sentence per page; the test expects exactly these.
PAGES = [
    'The preface explains why rivers were measured at dawn.',
    'The acknowledgements thank the ferrymen of the northern bank.',
    'Chapter one counts the herons that nest above the weir.',
    'Chapter two follows the eels downstream to the estuary.',
]
LABELS = [(0, 'r', ''), (2, 'D', '')]
OUTLINE = [('Front matter', 0, 0), ('Preface', 0, 1), ('Acknowledgements', 1, 1),
           ('Chapter One', 2, 0), ('Chapter Two', 3, 0)]


def main():
    plain = os.path.join(DATA, 'document_labels_outline.pdf')
    write_pdf(plain, [[(72, 100, sentence)] for sentence in PAGES], title='Rivers at Dawn',
              page_labels=LABELS, outline=OUTLINE, compress=False)
    encrypted = os.path.join(DATA, 'document_encrypted.pdf')
    with tempfile.TemporaryDirectory() as work:
        # qpdf rewrites the file; --static-id keeps the output identical between runs.
        subprocess.run(['qpdf', '--static-id', '--encrypt', PASSWORD, 'owner secret', '256', '--',
                        plain, encrypted], check=True, cwd=work)
    print('wrote', os.path.normpath(plain), 'and', os.path.normpath(encrypted))


if __name__ == '__main__':
    main()
