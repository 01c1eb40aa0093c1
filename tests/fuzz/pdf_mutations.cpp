// Mutated real PDFs through the document reader. Poppler is not ours, but what we do with what
// it returns is: truncated files, flipped bytes, huge counts and lengths, and cut or repeated
// slices must give a document or an error, never a crash, a page that takes longer than the page
// time limit, or memory beyond the limit.
//
//   pdf_mutations [mutations, default 60] [seed, default 1] [findings folder]
//
// CTest runs a few dozen; scripts/fuzz.sh pdf runs many. The inputs are the PDFs of tests/data
// and one written here with QPdfWriter (several pages of text). A failure names the mutation and
// leaves its input in the findings folder (default: the temporary folder).

#include "document_invariants.h"
#include "test_document_writer.h"

#include "document/document_reader.h"

#include <QDir>
#include <QFile>
#include <QGuiApplication>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QTemporaryDir>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include <sys/resource.h>

namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kPageTimeLimit = std::chrono::seconds(10);
constexpr long kMaxResidentMiB = 1536;

QByteArray readAll(const QString& path) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) qFatal("cannot read %s", qPrintable(path));
    return file.readAll();
}

QByteArray writtenPdf(const QString& path) {
    hiptest::TestPdfWriter writer(path);
    for (int page = 0; page < 4; ++page) {
        if (page) writer.newPage();
        for (int line = 0; line < 30; ++line)
            writer.text(60, 80 + 22 * line,
                        QStringLiteral("Page %1 line %2: the rays of light are refracted.")
                            .arg(page + 1)
                            .arg(line + 1));
    }
    if (!writer.finish()) qFatal("cannot write %s", qPrintable(path));
    return readAll(path);
}

// One mutation of `pdf`, described in `what`.
QByteArray mutate(const QByteArray& pdf, QRandomGenerator& random, QString& what) {
    QByteArray out = pdf;
    const auto at = [&] { return qsizetype(random.bounded(quint64(out.size()))); };
    switch (random.bounded(5)) {
    case 0: {
        const qsizetype length = at();
        what = QStringLiteral("truncated to %1 bytes").arg(length);
        out.truncate(length);
        break;
    }
    case 1: {
        const int flips = 1 + int(random.bounded(16));
        what = QStringLiteral("%1 bytes flipped:").arg(flips);
        for (int f = 0; f < flips; ++f) {
            const qsizetype p = at();
            out[p] = char(out[p] ^ (1 << random.bounded(8)));
            what += QStringLiteral(" %1").arg(p);
        }
        break;
    }
    case 2: {
        // A count, length, size or index made huge, negative or zero.
        static const QRegularExpression number(QStringLiteral(
            R"(/(Count|Length|Size|N|First|Prev|Root|Parent|W|Kids|Index)\s*\[?\s*(-?\d+))"));
        std::vector<QRegularExpressionMatch> matches;
        for (auto it = number.globalMatch(QString::fromLatin1(out)); it.hasNext();)
            matches.push_back(it.next());
        if (matches.empty()) return mutate(pdf, random, what);
        const QRegularExpressionMatch& m = matches[random.bounded(quint32(matches.size()))];
        static const char* const values[] = {"2147483647", "4294967296", "99999999999999999999",
                                             "-1",         "0",          "65535"};
        const char* value = values[random.bounded(quint32(std::size(values)))];
        what = QStringLiteral("/%1 at byte %2 set to %3")
                   .arg(m.captured(1))
                   .arg(m.capturedStart(2))
                   .arg(value);
        out.replace(m.capturedStart(2), m.capturedLength(2), value);
        break;
    }
    case 3: {
        const qsizetype from = at();
        const qsizetype length = qsizetype(random.bounded(quint64(out.size() - from)));
        what = QStringLiteral("bytes %1..%2 cut").arg(from).arg(from + length);
        out.remove(from, length);
        break;
    }
    default: {
        const qsizetype from = at();
        const qsizetype length = std::min<qsizetype>(out.size() - from, 4096);
        const int copies = 1 + int(random.bounded(64));
        what = QStringLiteral("bytes %1..%2 repeated %3 times")
                   .arg(from)
                   .arg(from + length)
                   .arg(copies);
        out.insert(from, out.mid(from, length).repeated(copies));
        break;
    }
    }
    return out;
}

long residentPeakMiB() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss / 1024;
}

} // namespace

int main(int argc, char** argv) {
    QGuiApplication app(argc, argv);
    const QStringList args = app.arguments();
    const int mutations = args.size() > 1 ? args[1].toInt() : 60;
    const quint32 seed = args.size() > 2 ? args[2].toUInt() : 1;
    QTemporaryDir scratch;
    const QString findings = args.size() > 3 ? args[3] : scratch.path();

    std::vector<QByteArray> pdfs;
    for (const QString& name :
         QDir(QStringLiteral(HIPREADER_TEST_DATA)).entryList({QStringLiteral("*.pdf")}))
        pdfs.push_back(readAll(QStringLiteral(HIPREADER_TEST_DATA "/") + name));
    pdfs.push_back(writtenPdf(scratch.filePath(QStringLiteral("written.pdf"))));

    // The watchdog: a page (or the opening before the first) that takes too long is a hang.
    std::atomic<int64_t> lastProgress{Clock::now().time_since_epoch().count()};
    std::atomic<bool> done{false};
    QString current;
    std::thread watchdog([&] {
        while (!done) {
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            const auto since =
                Clock::now() - Clock::time_point(Clock::duration(lastProgress.load()));
            if (since > kPageTimeLimit) {
                std::fprintf(stderr, "pdf_mutations: a page took over %lld s after %s\n",
                             static_cast<long long>(kPageTimeLimit.count()), qPrintable(current));
                std::abort();
            }
        }
    });

    QRandomGenerator random(seed);
    int documents = 0, errors = 0;
    for (int m = 0; m < mutations; ++m) {
        const int source = int(random.bounded(quint32(pdfs.size())));
        QString what;
        const QByteArray mutated = mutate(pdfs[source], random, what);
        const QString path = findings + QStringLiteral("/mutation-%1-%2.pdf").arg(seed).arg(m);
        QFile file(path);
        if (!file.open(QIODevice::WriteOnly) || file.write(mutated) != mutated.size())
            qFatal("cannot write %s", qPrintable(path));
        file.close();
        current = QStringLiteral("mutation %1 of pdf %2 (%3), input %4")
                      .arg(m)
                      .arg(source)
                      .arg(what, path);

        hip::doc::ReadOptions options;
        options.progress = [&](const hip::Progress&) {
            lastProgress = Clock::now().time_since_epoch().count();
        };
        lastProgress = Clock::now().time_since_epoch().count();
        if (auto document = hip::doc::readDocument(path, options)) {
            hipfuzz::checkDocument(*document);
            ++documents;
        } else {
            ++errors;
        }
        if (residentPeakMiB() > kMaxResidentMiB) {
            std::fprintf(stderr, "pdf_mutations: resident memory reached %ld MiB after %s\n",
                         residentPeakMiB(), qPrintable(current));
            std::abort();
        }
        QFile::remove(path);
    }
    done = true;
    watchdog.join();
    std::printf("pdf_mutations: %d mutations of %zu PDFs (seed %u): %d read, %d refused with an "
                "error; no crash, no page over %lld s, peak resident %ld MiB\n",
                mutations, pdfs.size(), seed, documents, errors,
                static_cast<long long>(kPageTimeLimit.count()), residentPeakMiB());
    return 0;
}
