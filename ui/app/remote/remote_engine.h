#pragma once
// The chat's AnswerEngine when a server answers: any server that speaks OpenAI's API (hipreader-cli
// serve, vLLM, SGLang, llama.cpp's llama-server), reached with QNetworkAccessManager. The book
// goes with every question as the system turn, after a check against the server's context; the
// answer streams back as server-sent events. The server is asked first which model it serves and
// how long its context is (GET /v1/models; llama.cpp's /props when the list does not say).
//
// Nothing is sent anywhere until a question is asked or checkServer() is called: the window
// creates this engine only when the user chose a remote engine.

#include "bridge/answer_engine.h"
#include "bridge/text_coalescer.h"
#include "remote/openai_json.h"
#include "remote/remote_options.h"
#include "remote/sse_reader.h"

#include <QNetworkAccessManager>
#include <QPointer>

#include <optional>

class QNetworkReply;

namespace hip::ui {

class RemoteEngine final : public AnswerEngine {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RemoteEngine)

public:
    explicit RemoteEngine(RemoteOptions options, QObject* parent = nullptr);
    ~RemoteEngine() override;

    const RemoteOptions& options() const { return options_; }
    // "http://127.0.0.1:8080/v1", for messages.
    QString address() const;

    // Asks the server for its model and context; serverChecked or serverFailed follows. A
    // question asked before the server was checked checks it first.
    void checkServer();
    // The model asked and its context (the settings' when set, else the server's; 0: unknown).
    const std::optional<ServerModel>& server() const { return server_; }

    // The book the questions are about (null: none), sent as the system turn of each request.
    // The conversation starts again after it (conversationCleared).
    void setDocument(DocumentPtr document);
    // The book's system turn, in estimated tokens; 0 without a book.
    qint64 documentTokens() const { return documentTokens_; }
    QString documentTitle() const;

    bool ask(const QString& question, const hip::GenerateOptions& options,
             std::optional<ChatTurns> history = std::nullopt) override;
    void cancel() override;
    bool isBusy() const override { return question_.has_value(); }
    void setHistory(const ChatTurns& turns) override { history_ = turns; }
    const ChatTurns& history() const { return history_; }

signals:
    void serverChecked(const hip::ui::ServerModel& server);
    void serverFailed(const QString& message);

private:
    struct Question {
        QString text;
        hip::GenerateOptions options;
    };

    QUrl endpoint(const QString& path, bool underApi) const;
    QNetworkRequest request(const QString& path, bool underApi = true) const;
    void onModels();
    void onProps();
    void serverKnown(ServerModel server);
    void send();
    void onAnswerData();
    void onAnswerEnd();
    void readEvents(const QByteArray& bytes);
    void endAnswer(hip::StopReason reason);
    void failAnswer(const QString& message);
    // What went wrong with a finished reply, for a person; empty when nothing did.
    QString problemOf(QNetworkReply& reply, const QByteArray& body, const QString& what) const;

    RemoteOptions options_;
    QNetworkAccessManager network_;
    std::optional<ServerModel> server_;
    std::optional<ServerModel> listed_; // from the model list, while /props is asked
    DocumentPtr document_;
    std::string systemTurn_;
    qint64 documentTokens_ = 0;
    ChatTurns history_;

    std::optional<Question> question_; // asked and not answered yet
    QPointer<QNetworkReply> models_;
    QPointer<QNetworkReply> props_;
    QPointer<QNetworkReply> answer_;
    SseReader events_;
    QByteArray body_; // what is not an event stream: an error, or an answer sent whole
    QString text_;    // the answer so far
    QString finishReason_;
    QString streamError_;
    bool done_ = false; // the stream's [DONE]
    TextCoalescer answerText_;
};

} // namespace hip::ui
