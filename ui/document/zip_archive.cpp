#include "document/zip_archive.h"

#include <zip.h>

#include <QFile>
#include <QStringList>

#include <utility>

namespace hip::doc {
namespace {

hip::Status hostile(const QString& fileName, const QString& why) {
    return hip::makeError(hip::ErrorCode::InvalidFile,
                          (fileName + QStringLiteral(" was refused: ") + why).toStdString());
}

// Entry names are paths inside the archive; any that could name a file outside it (when
// resolved against a folder) marks the archive as crafted.
bool isSafeName(const QString& name) {
    if (name.isEmpty() || name.startsWith(QLatin1Char('/')) || name.startsWith(QLatin1Char('\\')))
        return false;
    if (name.size() >= 2 && name[1] == QLatin1Char(':')) return false; // "C:..."
    if (name.contains(QChar(0))) return false;
    const QStringList parts =
        QString(name).replace(QLatin1Char('\\'), QLatin1Char('/')).split(QLatin1Char('/'));
    return !parts.contains(QStringLiteral(".."));
}

QString megabytes(int64_t bytes) {
    return QStringLiteral("%1 MB").arg(double(bytes) / 1e6, 0, 'f', 1);
}

} // namespace

ZipArchive::ZipArchive(zip* archive, QString fileName, ArchiveLimits limits)
    : archive_(archive), fileName_(std::move(fileName)), limits_(limits) {}

ZipArchive::ZipArchive(ZipArchive&& other) noexcept
    : archive_(std::exchange(other.archive_, nullptr)), fileName_(std::move(other.fileName_)),
      limits_(other.limits_), entries_(std::move(other.entries_)), bytesRead_(other.bytesRead_),
      refusal_(std::move(other.refusal_)) {}

ZipArchive& ZipArchive::operator=(ZipArchive&& other) noexcept {
    if (this != &other) {
        if (archive_) zip_discard(archive_);
        archive_ = std::exchange(other.archive_, nullptr);
        fileName_ = std::move(other.fileName_);
        limits_ = other.limits_;
        entries_ = std::move(other.entries_);
        bytesRead_ = other.bytesRead_;
        refusal_ = std::move(other.refusal_);
    }
    return *this;
}

ZipArchive::~ZipArchive() {
    if (archive_) zip_discard(archive_);
}

hip::Result<ZipArchive> ZipArchive::open(const QString& path, const ArchiveLimits& limits) {
    const QString fileName = path.section(QLatin1Char('/'), -1);
    int error = 0;
    zip* archive =
        zip_open(QFile::encodeName(path).constData(), ZIP_RDONLY | ZIP_CHECKCONS, &error);
    if (!archive) {
        zip_error_t details;
        zip_error_init_with_code(&details, error);
        const QString reason = QString::fromUtf8(zip_error_strerror(&details));
        zip_error_fini(&details);
        return hip::makeError(hip::ErrorCode::InvalidFile,
                              (fileName + QStringLiteral(" is not a readable zip archive (") +
                               reason + QStringLiteral(")"))
                                  .toStdString());
    }
    ZipArchive result(archive, fileName, limits);
    HIP_TRY(result.check());
    return result;
}

hip::Status ZipArchive::check() {
    const zip_int64_t count = zip_get_num_entries(archive_, 0);
    if (count > limits_.maxEntries)
        return hostile(fileName_, QStringLiteral("it has %1 entries, more than the %2 a book needs")
                                      .arg(count)
                                      .arg(limits_.maxEntries));
    int64_t total = 0;
    for (zip_int64_t i = 0; i < count; ++i) {
        zip_stat_t stat;
        zip_stat_init(&stat);
        if (zip_stat_index(archive_, zip_uint64_t(i), 0, &stat) != 0 ||
            !(stat.valid & ZIP_STAT_NAME) || !(stat.valid & ZIP_STAT_SIZE))
            return hostile(fileName_, QStringLiteral("entry %1 cannot be read").arg(i));
        const QString name = QString::fromUtf8(stat.name);
        if (!isSafeName(name))
            return hostile(fileName_,
                           QStringLiteral("entry \"%1\" points outside the archive").arg(name));
        if (name.endsWith(QLatin1Char('/'))) continue; // a folder
        const int64_t size = int64_t(std::min<zip_uint64_t>(stat.size, INT64_MAX));
        if (size > limits_.maxEntryBytes)
            return hostile(fileName_,
                           QStringLiteral("entry \"%1\" would inflate to %2 (the limit "
                                          "is %3)")
                               .arg(name, megabytes(size), megabytes(limits_.maxEntryBytes)));
        if (size > limits_.ratioCheckAboveBytes && (stat.valid & ZIP_STAT_COMP_SIZE)) {
            const double ratio = double(size) / double(std::max<zip_uint64_t>(stat.comp_size, 1));
            if (ratio > limits_.maxCompressionRatio)
                return hostile(fileName_,
                               QStringLiteral("entry \"%1\" inflates %2 times (%3), like a zip "
                                              "bomb")
                                   .arg(name)
                                   .arg(qRound64(ratio))
                                   .arg(megabytes(size)));
        }
        total += size;
        if (total > limits_.maxTotalBytes)
            return hostile(fileName_, QStringLiteral("its entries inflate to more than %1")
                                          .arg(megabytes(limits_.maxTotalBytes)));
        entries_.insert(name, {zip_uint64_t(i), size});
    }
    return hip::Status::ok();
}

hip::Result<QByteArray> ZipArchive::read(const QString& name) {
    const auto it = entries_.constFind(name);
    if (it == entries_.constEnd())
        return hip::makeError(
            hip::ErrorCode::NotFound,
            (fileName_ + QStringLiteral(" has no entry \"") + name + QStringLiteral("\""))
                .toStdString());
    if (bytesRead_ + it->size > limits_.maxTotalBytes) {
        refusal_ = hostile(fileName_, QStringLiteral("its entries inflate to more than %1")
                                          .arg(megabytes(limits_.maxTotalBytes)));
        return refusal_;
    }
    zip_file_t* file = zip_fopen_index(archive_, it->index, 0);
    if (!file)
        return hip::makeError(hip::ErrorCode::InvalidFile,
                              (fileName_ + QStringLiteral(": entry \"") + name +
                               QStringLiteral("\" cannot be opened (") +
                               QString::fromUtf8(zip_strerror(archive_)) + QStringLiteral(")"))
                                  .toStdString());
    // One byte more than declared reveals an entry that lies about its size.
    QByteArray data(qsizetype(it->size + 1), Qt::Uninitialized);
    qsizetype filled = 0;
    while (filled < data.size()) {
        const zip_int64_t got =
            zip_fread(file, data.data() + filled, zip_uint64_t(data.size() - filled));
        if (got <= 0) {
            if (got < 0) {
                const QString reason = QString::fromUtf8(zip_file_strerror(file));
                zip_fclose(file);
                return hip::makeError(hip::ErrorCode::InvalidFile,
                                      (fileName_ + QStringLiteral(": entry \"") + name +
                                       QStringLiteral("\" is damaged (") + reason +
                                       QStringLiteral(")"))
                                          .toStdString());
            }
            break;
        }
        filled += qsizetype(got);
    }
    zip_fclose(file);
    if (filled > it->size) {
        refusal_ = hostile(
            fileName_, QStringLiteral("entry \"%1\" holds more than its declared size").arg(name));
        return refusal_;
    }
    data.truncate(filled);
    bytesRead_ += filled;
    return data;
}

} // namespace hip::doc
