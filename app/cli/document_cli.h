#pragma once
// What the CLI does with documents (PDF, EPUB, text, Markdown) through the hipdocument library:
// reading with progress and a password prompt, ingesting with speed and time left, and
// printing the pages an answer attended to. Built only where the library is
// (HIPREADER_HAS_DOCUMENTS).

#include "arguments.h"

#include <hip/engine.h>

#include <document/document_text.h>
#include <document/document_tokens.h>

#include <optional>
#include <string>

namespace cli {

// Reads `path`, with page progress on a terminal and the password from `password` or asked
// for on the terminal; prints the document's size and warnings to stderr. On failure prints
// the error and returns nullopt.
std::optional<hip::doc::DocumentText> readDocumentFile(const std::string& path,
                                                       const std::optional<std::string>& password,
                                                       bool quiet = false);

// Puts the document into `session`, showing tokens done, speed and time left on a terminal
// and a summary line otherwise. On failure (too long, cancelled) prints the error.
std::optional<hip::doc::DocumentTokens> ingestDocumentFile(hip::Session& session,
                                                           const hip::doc::DocumentText& document);

// The pages the session's last answer attended to most, each with a short quote, to stdout.
void printAttendedPages(const hip::Session& session, const hip::doc::DocumentText& document,
                        const hip::doc::DocumentTokens& tokens, int pages);

} // namespace cli
