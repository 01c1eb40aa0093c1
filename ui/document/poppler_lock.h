#pragma once
// Every Poppler call in the application goes through this one lock (Okular's userMutex()):
// Poppler shares global state between documents (its error callback, font and CMap caches) and
// is not safe to call from several threads at once. Holding the lock also collects the errors
// Poppler reports, so they can be attributed to the page being read.

#include <QStringList>

#include <mutex>

namespace hip::doc {

class PopplerLock {
public:
    PopplerLock();
    ~PopplerLock();
    PopplerLock(const PopplerLock&) = delete;
    PopplerLock& operator=(const PopplerLock&) = delete;

    // Errors Poppler reported since the lock was taken or since the last call.
    QStringList takeErrors();

private:
    std::unique_lock<std::mutex> lock_;
    QStringList errors_;
};

} // namespace hip::doc
