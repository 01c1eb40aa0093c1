#pragma once
// What travels between the engine's thread and the GUI thread. Everything here is a value or a
// shared pointer to immutable data: once sent, nobody changes it, so either thread may read it.

#include "document/document_text.h"
#include "document/document_tokens.h"
#include "document/ingest_progress.h"
#include "document/passage.h"

#include <hip/attention_config.h>
#include <hip/attention_trace.h>
#include <hip/context_plan.h>
#include <hip/evaluation.h>
#include <hip/generation.h>
#include <hip/memory_report.h>
#include <hip/model_info.h>
#include <hip/session.h>
#include <hip/status.h>

#include <QMetaType>
#include <QString>

#include <cstdint>
#include <memory>
#include <vector>

namespace hip::ui {

// What the engine thread does, one at a time. Every request ends with EngineWorker::finished.
enum class Operation {
    EstimateMemory,
    PlanContext,
    LoadModel,
    CountTokens,
    ReadDocument,
    Answer,
    SetHistory,
    ReportHistory,
    AttentionMask,
    MeasureLocality,
    MeasureWindow,
};

// A loaded model as the GUI describes it.
struct ModelSummary {
    hip::ModelInfo info;
    hip::AttentionConfig attention;
    int64_t contextTokens = 0; // KV capacity of the session
    // Engine::documentTokenBudget(): tokens the document's system turn may take, header and chat
    // template included (see documentTextBudget for the text alone).
    int64_t documentTokenBudget = 0;
    QString device; // "CPU (2 threads)", the GPU's name
    bool onGpu = false;
};

// One reading of Engine::memory(), with when it was taken.
struct MemorySample {
    qint64 msecsSinceEpoch = 0;
    hip::MemoryReport report;
};

// Where attention went over the whole document while answering. `weights` has one entry per KV
// position: its weight as a source of the answer (doc::sourceWeights: attention beyond what an
// unrelated answer pays it), from which the sources, the heat strip and the overlay are drawn.
struct AttentionSummary {
    std::vector<float> weights;
    std::vector<doc::PageAttention> pages; // heaviest first: the answer's sources
    std::vector<float> pageHeat;           // per page, its share of the document's attention
};
using AttentionSummaryPtr = std::shared_ptr<const AttentionSummary>;

struct AnswerOutcome {
    QString text;
    hip::StopReason stopReason = hip::StopReason::EndOfTurn;
    hip::GenerationStats stats;
    AttentionSummaryPtr attention; // null when nothing was generated
};

// HiP's selection in one layer while answering: per generated token (row), its query's KV
// position and the key ranges selected for it in [0, contextTokens). Sinks and the window are
// always attended and not in them. The views bin it by page for the range they show.
struct AttentionMask {
    int layer = 0;
    int64_t contextTokens = 0;                      // key positions when the answer ended
    std::vector<int64_t> queries;                   // KV position of each row's query token
    std::vector<std::vector<hip::KeyRange>> ranges; // per row, the selected key ranges
    int64_t documentBegin = 0;                      // KV positions of the document
    int64_t documentEnd = 0;
    std::vector<int64_t> pageStarts; // KV position where each page starts (empty: no book)
    std::vector<QString> pageNames;  // "page 12 (xii)", per page
    int32_t sinkTokens = 0;          // from the attention configuration
    int32_t windowTokens = 0;
    bool denseLayer = false; // the layer ran dense: every key attended, nothing selected
    QString note;            // why the mask is empty, for a person
};
using AttentionMaskPtr = std::shared_ptr<const AttentionMask>;

// A conversation as the session holds it after the system turn (user and assistant turns).
using ChatTurns = std::vector<hip::ChatTurn>;

using DocumentPtr = std::shared_ptr<const doc::DocumentText>;
using DocumentTokensPtr = std::shared_ptr<const doc::DocumentTokens>;
using LocalityReportPtr = std::shared_ptr<const hip::eval::LocalityReport>;

} // namespace hip::ui

Q_DECLARE_METATYPE(hip::ui::Operation)
Q_DECLARE_METATYPE(hip::ErrorCode)
Q_DECLARE_METATYPE(hip::ui::ModelSummary)
Q_DECLARE_METATYPE(hip::ui::ChatTurns)
Q_DECLARE_METATYPE(hip::ui::MemorySample)
Q_DECLARE_METATYPE(hip::ui::AttentionSummaryPtr)
Q_DECLARE_METATYPE(hip::ui::AnswerOutcome)
Q_DECLARE_METATYPE(hip::ui::AttentionMaskPtr)
Q_DECLARE_METATYPE(hip::ui::DocumentTokensPtr)
Q_DECLARE_METATYPE(hip::ui::LocalityReportPtr)
Q_DECLARE_METATYPE(hip::doc::IngestEstimate)
Q_DECLARE_METATYPE(hip::MemoryEstimate)
Q_DECLARE_METATYPE(hip::ContextPlan)
