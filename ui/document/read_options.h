#pragma once
// How a document is read: the password prompt, progress, cancel and the limits that keep hostile
// files from exhausting memory.

#include <hip/cancel.h>

#include <QString>

#include <cstdint>
#include <functional>
#include <optional>

namespace hip::doc {

struct PasswordRequest {
    QString fileName;
    int attempt = 1; // 1 for the first request
    bool previousWasWrong = false;
};
// Returns the password, or nullopt when the user gives up.
using PasswordCallback = std::function<std::optional<QString>(const PasswordRequest&)>;

// Limits on archives (EPUB). An EPUB of a long book is a few MB; these are generous for real
// books and stop zip bombs and archives built to exhaust memory before anything is inflated.
struct ArchiveLimits {
    int64_t maxEntries = 10000;
    int64_t maxEntryBytes = 64ll << 20;  // uncompressed, one entry
    int64_t maxTotalBytes = 512ll << 20; // uncompressed, everything read
    // Uncompressed / compressed size above which an entry counts as a bomb; text compresses
    // about 3-5x, runs of one byte over 1000x.
    double maxCompressionRatio = 100;
    int64_t ratioCheckAboveBytes = 1 << 20; // small entries may compress well legitimately
};

struct ReadOptions {
    PasswordCallback password; // asked for encrypted PDFs; without it they are refused
    ProgressCallback progress; // stage "extracting text", pages done / total
    CancelToken cancel;        // checked between pages
    ArchiveLimits archive;
    int textPageCharacters = 3000; // page size of plain text and Markdown
};

} // namespace hip::doc
