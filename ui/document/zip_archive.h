#pragma once
// A read-only zip archive (the container of EPUB) that refuses hostile archives before it
// inflates anything: too many entries, entries or totals too large, compression ratios of zip
// bombs, and names that climb out of the archive ("../", absolute paths).

#include "document/read_options.h"

#include <hip/status.h>

#include <QByteArray>
#include <QHash>
#include <QString>

#include <cstdint>

struct zip;

namespace hip::doc {

class ZipArchive {
public:
    static hip::Result<ZipArchive> open(const QString& path, const ArchiveLimits& limits);
    ZipArchive(ZipArchive&& other) noexcept;
    ZipArchive& operator=(ZipArchive&& other) noexcept;
    ZipArchive(const ZipArchive&) = delete;
    ZipArchive& operator=(const ZipArchive&) = delete;
    ~ZipArchive();

    bool contains(const QString& name) const { return entries_.contains(name); }
    // The inflated bytes of an entry; never more than its declared size, and never more than
    // the archive's total budget over all reads.
    hip::Result<QByteArray> read(const QString& name);
    // Why a read found the archive hostile (beyond its budget, an entry lying about its size),
    // ok while none has: the whole archive is then refused, not just the entry, whichever read
    // found it (a failed read of an optional entry must not let the others go on).
    const hip::Status& refusal() const { return refusal_; }

private:
    struct Entry {
        uint64_t index = 0;
        int64_t size = 0; // declared uncompressed size, checked against the limits at open
    };
    ZipArchive(zip* archive, QString fileName, ArchiveLimits limits);
    hip::Status check();

    zip* archive_ = nullptr;
    QString fileName_;
    ArchiveLimits limits_;
    QHash<QString, Entry> entries_;
    int64_t bytesRead_ = 0;
    hip::Status refusal_;
};

} // namespace hip::doc
