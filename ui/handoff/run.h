#pragma once
// A job for Qt's global thread pool whose result comes back through a QFuture, handed over as
// handoff.h describes, so that ThreadSanitizer sees the job and its result cross threads. Watch it
// with a QFutureWatcher<handoff::Handed<R>> and read watcher.result().value().
//
// Not QtConcurrent::run: its task object is built on the calling thread and first read by the
// pool's thread inside QtConcurrent's own template code, before the job could say where the
// hand-off is.

#include "handoff/handoff.h"

#include <QFuture>
#include <QPromise>
#include <QThreadPool>

#include <memory>
#include <type_traits>
#include <utility>

namespace hip::handoff {

template <typename F> QFuture<Handed<std::invoke_result_t<F&>>> run(F job) {
    using Result = Handed<std::invoke_result_t<F&>>;
    // Shared, since the pool copies its jobs (std::function) and a promise cannot be copied.
    auto promise = std::make_shared<QPromise<Result>>();
    promise->start();
    QFuture<Result> future = promise->future();
    QThreadPool::globalInstance()->start(Handed([promise, job = std::move(job)]() mutable {
        promise->addResult(Result(job()));
        promise->finish();
    }));
    return future;
}

} // namespace hip::handoff
