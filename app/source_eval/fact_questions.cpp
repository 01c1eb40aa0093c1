#include "source_eval/fact_questions.h"

#include "document/passage_finder.h"

namespace hip::sources {

hip::Result<FactAnswer> askPlantedFact(hip::Session& session, const doc::DocumentText& document,
                                       const doc::DocumentTokens& tokens, const PlantedFact& fact,
                                       int page, const hip::GenerateOptions& options,
                                       const hip::CancelToken& cancel) {
    session.setHistory({});
    auto answer = session.ask(fact.question.toStdString(), options, {}, cancel);
    if (!answer) return answer.status();
    if (answer->stopReason == hip::StopReason::Cancelled)
        return makeError(ErrorCode::Cancelled, "cancelled");
    FactAnswer result;
    result.text = answer->text;
    result.stats = answer->stats;
    const bool correct = namesCodeWord(answer->text, fact.answer);
    result.cited = doc::citedPages(session.trace(), document, tokens, kCitedPages);
    result.score = {correct, citedRank(page, result.cited)};
    result.citedByAnswer = doc::citedPages(doc::answerSourceWeights(session.trace(), tokens),
                                           document, tokens, kCitedPages);
    result.scoreByAnswer = {correct, citedRank(page, result.citedByAnswer)};
    result.citedByMass =
        doc::citedPages(doc::attentionWeights(session.trace()), document, tokens, kCitedPages);
    result.scoreByMass = {correct, citedRank(page, result.citedByMass)};
    return result;
}

} // namespace hip::sources
