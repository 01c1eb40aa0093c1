#pragma once
// How to reach an OpenAI-compatible server that answers in place of the local engine (Settings >
// Engine > Remote).

#include <QString>
#include <QUrl>

namespace hip::ui {

struct RemoteOptions {
    // The API's base, up to and including /v1: "http://127.0.0.1:8080/v1".
    QUrl baseUrl;
    // Sent as "Authorization: Bearer KEY"; empty sends no key.
    QString apiKey;
    // The model to ask; empty: the first one GET /v1/models lists.
    QString model;
    // The server's context in tokens; 0: as the server reports it.
    qint64 contextTokens = 0;
    // How long the server may stay silent (connecting, before and between pieces of an answer).
    int timeoutSeconds = 30;
};

} // namespace hip::ui
