// The policy that picks attention and context for a document (hip::planContext): no model needed.
// A document within the asked context is read as asked; a longer one gets HiP and a context that
// holds it and a conversation, within memory; what the user chose stays.

#include "test_support.h"

#include <hip/context_plan.h>
#include <hip/memory_report.h>

namespace {

constexpr int64_t kTrained = 8192;

hip::AttentionConfig preset(const char* name) {
    return *hip::AttentionConfig::preset(name);
}

hip::ContextRequest requestFor(int64_t documentTokens) {
    hip::ContextRequest request;
    request.documentTokens = documentTokens;
    request.trainedContext = kTrained;
    request.attention = preset("dense");
    return request;
}

} // namespace

class TestContextPlan : public QObject {
    Q_OBJECT

private slots:
    void aDocumentThatFitsIsReadAsAsked() {
        for (const char* attention : {"dense", "hip-5k"}) {
            hip::ContextRequest request = requestFor(5000);
            request.attention = preset(attention);
            const hip::ContextPlan plan = hip::planContext(request);
            QCOMPARE(plan.contextTokens, kTrained);
            QCOMPARE(plan.attention, preset(attention));
            QVERIFY(plan.wholeDocument);
        }
    }

    // The 12-page PDF of issue 12 (7,939 tokens) did not fit 8,192 less the answer's room.
    void aLongerDocumentGetsHipAndRoomForTheConversation() {
        for (const int64_t tokens : {int64_t(7939), int64_t(9000), int64_t(500000)}) {
            const hip::ContextPlan plan = hip::planContext(requestFor(tokens));
            QCOMPARE(plan.attention.mode, hip::AttentionConfig::Mode::Hip);
            QCOMPARE(plan.attention.name, std::string(hip::kLongDocumentPreset));
            QVERIFY(plan.wholeDocument);
            QVERIFY(hip::documentFits(tokens, plan.contextTokens));
            QVERIFY(plan.contextTokens >= tokens + hip::kConversationTokens);
            QVERIFY(plan.contextTokens < tokens + hip::kConversationTokens + 2048);
            QCOMPARE(plan.contextTokens % 1024, int64_t(0));
        }
        QVERIFY(!hip::documentFits(7939, kTrained));
        QVERIFY(hip::documentFits(7000, kTrained));
    }

    void aChosenHipPresetIsKept() {
        hip::ContextRequest request = requestFor(20000);
        request.attention = preset("hip-5k");
        request.attentionChosen = true;
        const hip::ContextPlan plan = hip::planContext(request);
        QCOMPARE(plan.attention, preset("hip-5k"));
        QVERIFY(plan.wholeDocument);
    }

    // Memory caps the context: as much of the document as it holds, never less than asked.
    void memoryLimitsTheContext() {
        hip::ContextRequest request = requestFor(100000);
        request.memoryTokens = 50000;
        hip::ContextPlan plan = hip::planContext(request);
        QCOMPARE(plan.contextTokens, int64_t(49152)); // whole granules within the limit
        QVERIFY(!plan.wholeDocument);
        QCOMPARE(plan.attention.mode, hip::AttentionConfig::Mode::Hip);
        request.memoryTokens = 1000;
        plan = hip::planContext(request);
        QCOMPARE(plan.contextTokens, kTrained);
    }

    // Explicit choices win: dense stays within the trained context, a chosen context stays.
    void explicitChoicesWin() {
        hip::ContextRequest dense = requestFor(20000);
        dense.attentionChosen = true;
        hip::ContextPlan plan = hip::planContext(dense);
        QCOMPARE(plan.attention, preset("dense"));
        QCOMPARE(plan.contextTokens, kTrained);
        QVERIFY(!plan.wholeDocument);

        hip::ContextRequest shorter = requestFor(20000);
        shorter.contextTokens = 4096;
        plan = hip::planContext(shorter);
        QCOMPARE(plan.contextTokens, int64_t(4096));
        QCOMPARE(plan.attention, preset("dense"));
        QVERIFY(!plan.wholeDocument);

        // A context past the trained one, attention not chosen: HiP reads it.
        hip::ContextRequest longer = requestFor(20000);
        longer.contextTokens = 32768;
        plan = hip::planContext(longer);
        QCOMPARE(plan.contextTokens, int64_t(32768));
        QCOMPARE(plan.attention.mode, hip::AttentionConfig::Mode::Hip);
        QVERIFY(plan.wholeDocument);
        longer.attentionChosen = true;
        QCOMPARE(hip::planContext(longer).attention, preset("dense"));
    }

    void maxContextTokensFollowsTheEstimate() {
        hip::MemoryEstimate estimate;
        estimate.weightBytes = 100 << 20;
        estimate.scratchBytes = 20 << 20;
        estimate.contextTokens = 8192;
        estimate.kvBytes = uint64_t(8192) * 1000;
        estimate.availableBytes = (120 << 20) + uint64_t(50000) * 1000;
        QCOMPARE(estimate.maxContextTokens(), int64_t(50000));
        estimate.availableBytes = 100 << 20;
        QCOMPARE(estimate.maxContextTokens(), int64_t(0));
    }
};

QTEST_MAIN(TestContextPlan)
#include "test_context_plan.moc"
