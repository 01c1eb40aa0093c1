#include "memory/memory_gauge.h"

#include "common/formatting.h"
#include "common/theme.h"

#include <QPainter>
#include <QPainterPath>

#include <algorithm>

namespace hip::ui {
namespace {

// Distinguishable in light and dark palettes and by most colour-blind readers (Okabe-Ito).
const QColor kWeights(0, 114, 178);
const QColor kKv(230, 159, 0);
const QColor kScratch(204, 121, 167);
const QColor kOther(128, 128, 128);

constexpr int kMargin = 8;
constexpr int kBarHeight = 18;

} // namespace

MemoryGauge::MemoryGauge(QWidget* parent) : QWidget(parent) {
    setAccessibleName(tr("Memory gauge"));
    setFocusPolicy(Qt::TabFocus);
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
}

QSize MemoryGauge::sizeHint() const {
    return {380, minimumSizeHint().height() + 40};
}

QSize MemoryGauge::minimumSizeHint() const {
    const int line = fontMetrics().lineSpacing();
    return {240, 2 * kMargin + 5 * line + 3 * kBarHeight + 50};
}

void MemoryGauge::addSample(const MemorySample& sample) {
    const bool first = history_.isEmpty();
    history_.add(sample);
    update();
    // Announce the first reading and then only when the total moves noticeably, not twice a second.
    if (first) announceSummaryChanged(this);
}

void MemoryGauge::setOnGpu(bool onGpu) {
    onGpu_ = onGpu;
    update();
}

void MemoryGauge::clear() {
    history_.clear();
    update();
    announceSummaryChanged(this);
}

std::vector<MemoryGauge::Part> MemoryGauge::deviceParts(const hip::MemoryReport& r) const {
    // On the CPU the KV cache lives in the same RAM as everything else: it is part of the bar.
    const uint64_t kv = r.kvDeviceBytes + (onGpu_ ? 0 : r.kvHostBytes);
    const uint64_t ours = r.weightBytes + kv + r.scratchBytes;
    const uint64_t used =
        r.deviceTotalBytes > r.deviceFreeBytes ? r.deviceTotalBytes - r.deviceFreeBytes : 0;
    return {{tr("weights"), r.weightBytes, kWeights},
            {onGpu_ ? tr("KV caches") : tr("KV cache"), kv, kKv},
            {tr("scratch"), r.scratchBytes, kScratch},
            {tr("other programs"), used > ours ? used - ours : 0, kOther}};
}

QString MemoryGauge::accessibleSummary() const {
    if (history_.isEmpty()) return tr("No model is loaded.");
    const hip::MemoryReport& r = history_.latest().report;
    QStringList parts;
    for (const Part& p : deviceParts(r))
        parts << tr("%1 %2").arg(p.name, formatBytes(p.bytes));
    QString text = tr("%1: %2 free of %3; %4.")
                       .arg(QString::fromStdString(r.device), formatBytes(r.deviceFreeBytes),
                            formatBytes(r.deviceTotalBytes), parts.join(QStringLiteral(", ")));
    if (onGpu_) text += tr(" KV cache in host memory: %1.").arg(formatBytes(r.kvHostBytes));
    return text;
}

void MemoryGauge::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    painter.setRenderHint(QPainter::Antialiasing);
    const QPalette pal = palette();
    const QColor text = pal.color(QPalette::WindowText);
    const QColor muted = pal.color(QPalette::PlaceholderText);
    const QColor track = isDarkPalette(pal) ? pal.color(QPalette::Base).lighter(160)
                                            : pal.color(QPalette::Base).darker(110);
    const QFontMetrics metrics = fontMetrics();
    const int line = metrics.lineSpacing();
    const int width = this->width() - 2 * kMargin;
    int y = kMargin;

    if (history_.isEmpty()) {
        painter.setPen(muted);
        painter.drawText(rect().adjusted(kMargin, kMargin, -kMargin, -kMargin),
                         Qt::AlignCenter | Qt::TextWordWrap,
                         tr("Memory use appears here once a model is loaded."));
        return;
    }
    const hip::MemoryReport& r = history_.latest().report;

    QFont bold = font();
    bold.setBold(true);
    painter.setFont(bold);
    painter.setPen(text);
    painter.drawText(
        QRect(kMargin, y, width, line), Qt::AlignLeft | Qt::AlignVCenter,
        onGpu_ ? tr("GPU memory · %1").arg(QString::fromStdString(r.device))
               : tr("Host memory (CPU engine) · %1").arg(QString::fromStdString(r.device)));
    painter.setFont(font());
    y += line + 2;

    // The device bar: our parts, then other programs, then free (the track).
    const std::vector<Part> parts = deviceParts(r);
    const double total = double(std::max<uint64_t>(1, r.deviceTotalBytes));
    const QRectF bar(kMargin, y, width, kBarHeight);
    painter.setPen(Qt::NoPen);
    painter.setBrush(track);
    painter.drawRoundedRect(bar, 3, 3);
    double x = bar.left();
    for (const Part& p : parts) {
        const double w = std::max(p.bytes > 0 ? 1.0 : 0.0, bar.width() * double(p.bytes) / total);
        painter.fillRect(QRectF(x, bar.top(), std::min(w, bar.right() - x), bar.height()), p.color);
        x += w;
    }
    y += kBarHeight + 2;
    painter.setPen(muted);
    uint64_t ours = 0;
    for (size_t i = 0; i + 1 < parts.size(); ++i)
        ours += parts[i].bytes;
    painter.drawText(QRect(kMargin, y, width, line), Qt::AlignLeft | Qt::AlignVCenter,
                     tr("HiP Reader %1 · free %2 of %3")
                         .arg(formatBytes(ours), formatBytes(r.deviceFreeBytes),
                              formatBytes(r.deviceTotalBytes)));
    y += line + 2;

    // HiP Reader's own share, magnified to the full width: on a large device its parts would be
    // slivers of the bar above.
    const QRectF own(kMargin, y, width, kBarHeight / 2.0);
    x = own.left();
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
        const double w = own.width() * double(parts[i].bytes) / double(std::max<uint64_t>(1, ours));
        painter.fillRect(QRectF(x, own.top(), w, own.height()), parts[i].color);
        x += w;
    }
    y += kBarHeight / 2 + 6;

    // The legend, wrapping as the width allows.
    int lx = kMargin;
    for (const Part& p : parts) {
        const QString label = QStringLiteral("%1 %2").arg(p.name, formatBytes(p.bytes));
        const int w = 14 + metrics.horizontalAdvance(label) + 12;
        if (lx + w > kMargin + width && lx > kMargin) {
            lx = kMargin;
            y += line;
        }
        painter.fillRect(QRectF(lx, y + (line - 10) / 2.0, 10, 10), p.color);
        painter.setPen(text);
        painter.drawText(QRect(lx + 14, y, w, line), Qt::AlignLeft | Qt::AlignVCenter, label);
        lx += w;
    }
    y += line + 6;

    // The host KV tier (GPU engines keep the whole cache in host memory and the hot blocks on
    // the GPU): its size, against the largest it has been.
    if (onGpu_) {
        painter.setPen(text);
        painter.drawText(QRect(kMargin, y, width, line), Qt::AlignLeft | Qt::AlignVCenter,
                         tr("KV cache in host memory: %1").arg(formatBytes(r.kvHostBytes)));
        y += line;
        uint64_t peak = 1;
        for (const MemorySample& s : history_.samples())
            peak = std::max(peak, s.report.kvHostBytes);
        const QRectF host(kMargin, y, width, kBarHeight / 2.0);
        painter.setPen(Qt::NoPen);
        painter.setBrush(track);
        painter.drawRoundedRect(host, 2, 2);
        painter.fillRect(QRectF(host.left(), host.top(),
                                host.width() * double(r.kvHostBytes) / double(peak), host.height()),
                         kKv.lighter(120));
        y += kBarHeight / 2 + 6;
    }

    // The sparkline: the engine's total over the history, scaled to its peak.
    const QRectF spark(kMargin, y + line, width, std::max(24, height() - y - line - kMargin));
    painter.setPen(muted);
    painter.drawText(QRect(kMargin, y, width, line), Qt::AlignLeft | Qt::AlignVCenter,
                     tr("Engine total (blue) and KV cache (orange), last %1 · peak %2")
                         .arg(formatDuration(double(history_.latest().msecsSinceEpoch -
                                                    history_.samples().front().msecsSinceEpoch) /
                                             1000))
                         .arg(formatBytes(history_.peakEngineBytes())));
    painter.setPen(QPen(track, 1));
    painter.setBrush(Qt::NoBrush);
    painter.drawRect(spark);
    const auto& samples = history_.samples();
    if (samples.size() >= 2) {
        const double peak = double(std::max<uint64_t>(1, history_.peakEngineBytes()));
        QPainterPath engine, kv;
        for (size_t i = 0; i < samples.size(); ++i) {
            const double sx = spark.left() + spark.width() * double(i) / double(samples.size() - 1);
            const hip::MemoryReport& s = samples[i].report;
            const double ty =
                spark.bottom() - spark.height() * double(MemoryHistory::engineBytes(s)) / peak;
            const double ky =
                spark.bottom() - spark.height() * double(s.kvDeviceBytes + s.kvHostBytes) / peak;
            if (i == 0) {
                engine.moveTo(sx, ty);
                kv.moveTo(sx, ky);
            } else {
                engine.lineTo(sx, ty);
                kv.lineTo(sx, ky);
            }
        }
        painter.setPen(QPen(kWeights, 1.5));
        painter.drawPath(engine);
        painter.setPen(QPen(kKv, 1.5));
        painter.drawPath(kv);
    }
    if (hasFocus()) {
        painter.setPen(QPen(pal.color(QPalette::Highlight), 1, Qt::DotLine));
        painter.drawRect(rect().adjusted(0, 0, -1, -1));
    }
}

} // namespace hip::ui
