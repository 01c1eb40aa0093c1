// Calls and results handed between threads through Qt (ui/handoff): where they run, in which
// order, what happens to a call whose receiver is gone, and a pool job's result in its future.
//
// Each case writes plain (not atomic, unlocked) data on one thread and reads it on the other after
// the hand-off, as the app does. Under ThreadSanitizer (scripts/sanitize.sh tsan runs this suite)
// that is a race report unless the hand-off's annotations order the two, so the suite checks them
// too.

#include <handoff/handoff.h>
#include <handoff/run.h>

#include <QFutureWatcher>
#include <QSignalSpy>
#include <QTest>
#include <QThread>
#include <QThreadPool>

#include <memory>
#include <string>
#include <vector>

using hip::handoff::Handed;

namespace {

// Lives on its own thread and records what was run there.
class Recorder final : public QObject {
public:
    std::vector<std::string> log;
    QThread* ranOn = nullptr;
};

} // namespace

class TestHandoff final : public QObject {
    Q_OBJECT

private slots:
    void queuedCallsRunOnTheReceiversThreadInOrder() {
        QThread thread;
        auto* recorder = new Recorder;
        recorder->moveToThread(&thread);
        connect(&thread, &QThread::finished, recorder, &QObject::deleteLater);
        thread.start();

        std::vector<std::string> seen;
        for (int i = 0; i < 50; ++i) {
            // Built here, read there: a plain string in a plain vector.
            auto text = std::make_shared<std::string>("call " + std::to_string(i));
            hip::handoff::queueCall(recorder, [recorder, text] {
                recorder->log.push_back(*text);
                recorder->ranOn = QThread::currentThread();
            });
            seen.push_back(*text);
        }
        // The last call hands the log back to this thread.
        std::vector<std::string> log;
        QThread* ranOn = nullptr;
        bool back = false;
        hip::handoff::queueCall(recorder, [this, recorder, &log, &ranOn, &back] {
            hip::handoff::queueCall(
                this, [&log, &ranOn, &back, copy = recorder->log, thread = recorder->ranOn] {
                    log = copy;
                    ranOn = thread;
                    back = true;
                });
        });
        QTRY_VERIFY_WITH_TIMEOUT(back, 10000);
        QCOMPARE(log, seen);
        QCOMPARE(ranOn, &thread);
        thread.quit();
        QVERIFY(thread.wait(10000));
    }

    void aCallToAnObjectDestroyedFirstIsDroppedAndFreed() {
        auto captured = std::make_shared<int>(7);
        bool ran = false;
        {
            QObject receiver;
            hip::handoff::queueCall(&receiver, [captured, &ran] { ran = *captured == 7; });
            QCOMPARE(captured.use_count(), 2L); // waiting in the event queue
        }
        QCoreApplication::processEvents();
        QVERIFY(!ran);
        QCOMPARE(captured.use_count(), 1L);
    }

    void aPoolJobsResultComesBackInItsFuture() {
        QFutureWatcher<Handed<std::vector<int>>> watcher;
        QSignalSpy finished(&watcher, &QFutureWatcherBase::finished);
        QThread* ranOn = nullptr;
        watcher.setFuture(hip::handoff::run([&ranOn] {
            ranOn = QThread::currentThread();
            std::vector<int> squares;
            for (int i = 0; i < 1000; ++i)
                squares.push_back(i * i);
            return squares;
        }));
        QVERIFY(finished.wait(10000));
        // Reading the result is the hand-off: `ranOn` is read after it.
        const std::vector<int> squares = watcher.result().value();
        QCOMPARE(squares.size(), size_t(1000));
        QCOMPARE(squares[999], 999 * 999);
        QVERIFY(ranOn != nullptr);
        QVERIFY(ranOn != QThread::currentThread());
    }

    void aPoolJobHandsItsResultBack() {
        QThreadPool pool;
        std::vector<int> received;
        bool back = false;
        pool.start(Handed([this, &received, &back] {
            std::vector<int> made(100, 3);
            hip::handoff::queueCall(this, [&received, &back, made] {
                received = made;
                back = true;
            });
        }));
        QTRY_VERIFY_WITH_TIMEOUT(back, 10000);
        QCOMPARE(received, std::vector<int>(100, 3));
        QVERIFY(pool.waitForDone(10000));
    }
};

QTEST_GUILESS_MAIN(TestHandoff)
#include "test_handoff.moc"
