#include "document/poppler_lock.h"

#include <poppler-qt6.h>

#include <QDebug>

#include <utility>

namespace hip::doc {
namespace {

std::mutex popplerMutex;
// The error list of the lock holder; only touched with popplerMutex held, because Poppler only
// reports from inside calls made under the lock.
QStringList* activeErrors = nullptr;

void collectPopplerMessage(const QString& message, const QVariant&) {
    if (activeErrors)
        activeErrors->append(message);
    else
        qDebug().noquote() << "poppler:" << message;
}

} // namespace

PopplerLock::PopplerLock() : lock_(popplerMutex) {
    static std::once_flag installed;
    std::call_once(installed, [] { Poppler::setDebugErrorFunction(collectPopplerMessage, {}); });
    activeErrors = &errors_;
}

PopplerLock::~PopplerLock() {
    activeErrors = nullptr;
}

QStringList PopplerLock::takeErrors() {
    return std::exchange(errors_, {});
}

} // namespace hip::doc
