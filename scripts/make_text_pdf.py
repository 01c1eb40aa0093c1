#!/usr/bin/env python3
"""A minimal PDF writer for test fixtures and benchmark documents: text lines in a standard font
(no embedding), page labels and an outline, with no dependencies beyond Python.

Used as a module by make_fixture_pdfs.py and make_bench_pdf.py; run directly it writes a small
sample:  scripts/make_text_pdf.py OUT.pdf
"""
import sys
import zlib

PAGE_WIDTH = 595   # A4 in points
PAGE_HEIGHT = 842


def _escape(text):
    return text.replace('\\', '\\\\').replace('(', '\\(').replace(')', '\\)')


def _pdf_string(text):
    return '(' + _escape(text) + ')'


def write_pdf(path, pages, *, title=None, page_labels=None, outline=None, font='Helvetica',
              size=11, compress=True):
    """pages: one list per page of (x, y, text), y measured from the top in points.
    page_labels: [(first page index, style 'D'|'r'|'R'|'a'|'A', prefix)], as in /PageLabels.
    outline: [(title, page index, level)] in document order, level 0 at the top."""
    objects = []  # bodies, object number = index + 1

    def add(body):
        objects.append(body)
        return len(objects)

    def reserve():
        objects.append(None)
        return len(objects)

    catalog = reserve()
    pages_obj = reserve()
    font_obj = add(f'<< /Type /Font /Subtype /Type1 /BaseFont /{font} '
                   f'/Encoding /WinAnsiEncoding >>'.encode())
    page_objs = []
    for lines in pages:
        ops = []
        for x, y, text in lines:
            ops.append(f'BT /F1 {size} Tf {x:.2f} {PAGE_HEIGHT - y:.2f} Td '
                       f'{_pdf_string(text)} Tj ET')
        data = '\n'.join(ops).encode('cp1252', errors='replace')
        if compress:
            data = zlib.compress(data)
            stream = add(b'<< /Length %d /Filter /FlateDecode >>\nstream\n' % len(data) + data +
                         b'\nendstream')
        else:
            stream = add(b'<< /Length %d >>\nstream\n' % len(data) + data + b'\nendstream')
        page_objs.append(add(
            f'<< /Type /Page /Parent {pages_obj} 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] '
            f'/Resources << /Font << /F1 {font_obj} 0 R >> >> /Contents {stream} 0 R >>'.encode()))
    kids = ' '.join(f'{p} 0 R' for p in page_objs)
    objects[pages_obj - 1] = f'<< /Type /Pages /Kids [{kids}] /Count {len(page_objs)} >>'.encode()

    extra = ''
    if page_labels:
        nums = ' '.join(
            f'{start} << /S /{style}' + (f' /P {_pdf_string(prefix)}' if prefix else '') + ' >>'
            for start, style, prefix in page_labels)
        extra += f' /PageLabels << /Nums [{nums}] >>'
    if outline:
        extra += f' /Outlines {_write_outline(outline, objects, page_objs)} 0 R /PageMode /UseOutlines'
    objects[catalog - 1] = f'<< /Type /Catalog /Pages {pages_obj} 0 R{extra} >>'.encode()
    info = add(f'<< /Title {_pdf_string(title)} >>'.encode()) if title else None

    out = bytearray(b'%PDF-1.7\n%\xe2\xe3\xcf\xd3\n')
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b'%d 0 obj\n' % number + body + b'\nendobj\n'
    xref = len(out)
    out += b'xref\n0 %d\n0000000000 65535 f \n' % (len(objects) + 1)
    for offset in offsets:
        out += b'%010d 00000 n \n' % offset
    trailer = f'<< /Size {len(objects) + 1} /Root {catalog} 0 R'
    if info:
        trailer += f' /Info {info} 0 R'
    out += f'trailer\n{trailer} >>\nstartxref\n{xref}\n%%EOF\n'.encode()
    with open(path, 'wb') as f:
        f.write(out)


def _write_outline(entries, objects, page_objs):
    """Builds the outline tree (parents, siblings, counts) from the flattened entries."""
    root = {'children': [], 'number': None}
    stack = [root]
    nodes = []
    for title, page, level in entries:
        node = {'title': title, 'page': page, 'children': []}
        del stack[level + 1:]
        stack[-1]['children'].append(node)
        node['parent'] = stack[-1]
        stack.append(node)
        nodes.append(node)
    root['number'] = len(objects) + 1
    objects.append(None)
    for node in nodes:
        node['number'] = len(objects) + 1
        objects.append(None)

    def count(node):
        return len(node['children']) + sum(count(c) for c in node['children'])

    for node in nodes:
        siblings = node['parent']['children']
        i = siblings.index(node)
        fields = [f'/Title {_pdf_string(node["title"])}', f'/Parent {node["parent"]["number"]} 0 R',
                  f'/Dest [{page_objs[node["page"]]} 0 R /XYZ null {PAGE_HEIGHT - 72} null]']
        if i > 0:
            fields.append(f'/Prev {siblings[i - 1]["number"]} 0 R')
        if i + 1 < len(siblings):
            fields.append(f'/Next {siblings[i + 1]["number"]} 0 R')
        if node['children']:
            fields.append(f'/First {node["children"][0]["number"]} 0 R '
                          f'/Last {node["children"][-1]["number"]} 0 R /Count {count(node)}')
        objects[node['number'] - 1] = ('<< ' + ' '.join(fields) + ' >>').encode()
    children = root['children']
    objects[root['number'] - 1] = (
        f'<< /Type /Outlines /First {children[0]["number"]} 0 R '
        f'/Last {children[-1]["number"]} 0 R /Count {count(root)} >>').encode()
    return root['number']


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    write_pdf(sys.argv[1], [[(72, 100, 'Hello from a minimal PDF.')]], title='Sample')
