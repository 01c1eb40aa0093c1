#pragma once
// What the UI suites share: a small book generated as a PDF (each fact on a known page), settings
// in a temporary folder, and a quick configuration of the default model for the CPU.

#include "document/book_pdf_writer.h"
#include "settings/app_settings.h"
#include "test_support.h"

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>

namespace uitest {

// The page (0-based) each section of the test book starts on: one section per page.
constexpr int kCatPage = 2;

// How long a test waits for the model to do something: `seconds` times
// HIPREADER_TEST_TIME_SCALE (scripts/sanitize.sh sets it: ThreadSanitizer runs the model about ten
// times slower).
inline int modelSeconds(int seconds) {
    const int scale = qEnvironmentVariableIntValue("HIPREADER_TEST_TIME_SCALE");
    return seconds * std::max(1, scale);
}

inline std::vector<hip::doc::BookSection> bookSections() {
    return {
        {QStringLiteral("The Harbour"),
         {QStringLiteral("The harbour of Wendle lies at the end of a long grey bay. Fishing boats "
                         "leave before dawn and come back at noon with herring and mackerel. The "
                         "harbour master rings a brass bell when the tide turns.")}},
        {QStringLiteral("The Market"),
         {QStringLiteral("On Fridays the market fills the square by the church. Farmers sell "
                         "cheese, apples and wool, and a man from the hills sells honey in stone "
                         "jars. The market closes when the church clock strikes four.")}},
        {QStringLiteral("The Lighthouse Cat"),
         {QStringLiteral("The lighthouse keeper of Wendle has a large ginger cat named Marmalade. "
                         "Marmalade sleeps in the lantern room and catches mice in the oil store. "
                         "The cat named Marmalade is the most famous cat in Wendle.")}},
        {QStringLiteral("The School"),
         {QStringLiteral("The school has one classroom and forty children. The teacher reads "
                         "stories aloud every afternoon, and in spring the children plant beans "
                         "in the garden behind the school.")}},
    };
}

// Writes the test book into `folder`; returns its path.
inline QString writeBook(const QTemporaryDir& folder) {
    const QString path = folder.filePath(QStringLiteral("wendle.pdf"));
    const hip::Status written =
        hip::doc::writeBookPdf(path, QStringLiteral("A Week in Wendle"), bookSections());
    if (!written) qFatal("%s", written.message().c_str());
    return path;
}

// A file that says it is a PDF and is not one.
inline QString writeDamagedPdf(const QTemporaryDir& folder) {
    const QString path = folder.filePath(QStringLiteral("damaged.pdf"));
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly)) qFatal("cannot write %s", qPrintable(path));
    file.write(
        "%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ngarbage garbage\n%%EOF\n");
    return path;
}

// The default model on the CPU with a small context: the suites stay fast on two cores.
inline void configureFastModel(hip::ui::AppSettings& settings) {
    settings.setModelPath(QString::fromStdString(hiptest::defaultModelPath().string()));
    settings.setDevice(hip::ui::DevicePreference::Cpu);
    settings.setAttentionPreset(QStringLiteral("dense"));
    settings.setContextTokens(2048);
    hip::GenerateOptions options = settings.generateOptions();
    options.maxTokens = 24;
    options.sampler.temperature = 0;
    settings.setGenerateOptions(options);
}

} // namespace uitest
