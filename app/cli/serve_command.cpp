// hipreader-cli serve: the engine behind an OpenAI-compatible HTTP server (app/serve), with
// books read at startup offered as context.

#include "cli_common.h"
#include "commands.h"
#include "document_cli.h"

#include <openai_server.h>
#include <served_model.h>

#include <QCoreApplication>
#include <QSocketNotifier>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include <unistd.h>

namespace cli {
namespace {

int quitPipe[2] = {-1, -1};

extern "C" void onQuitSignal(int) {
    const char byte = 1;
    [[maybe_unused]] const ssize_t written = ::write(quitPipe[1], &byte, 1);
}

// SIGINT and SIGTERM end the event loop (through a pipe: a signal handler may only write), so
// requests are cancelled and the engine is unloaded in order.
void quitOnSignals(QCoreApplication& app) {
    if (::pipe(quitPipe) != 0) return;
    auto* notifier = new QSocketNotifier(quitPipe[0], QSocketNotifier::Read, &app);
    QObject::connect(notifier, &QSocketNotifier::activated, &app, &QCoreApplication::quit);
    std::signal(SIGINT, onQuitSignal);
    std::signal(SIGTERM, onQuitSignal);
}

// "opticks.pdf", and "opticks-2.pdf" for a second book of that name.
QString documentId(const std::string& path, const serve::ServedModel& model) {
    const QString name = QString::fromStdString(std::filesystem::path(path).filename().string());
    QString id = name;
    for (int n = 2; model.document(id); ++n)
        id = QString::fromStdString(std::filesystem::path(path).stem().string()) + '-' +
             QString::number(n) +
             QString::fromStdString(std::filesystem::path(path).extension().string());
    return id;
}

} // namespace

int runServe(Arguments& args) {
    if (!args.validate(unite({kModelOptions,
                              {"host", "port", "api-key", "doc", "password", "max-tokens",
                               "max-request-bytes", "queue"}})))
        return fail(args.error());

    serve::ServerOptions options;
    const std::string host = args.value("host", "127.0.0.1");
    options.address = host == "localhost" ? QHostAddress(QHostAddress::LocalHost)
                                          : QHostAddress(QString::fromStdString(host));
    if (options.address.isNull())
        return fail("--host expects an IP address such as 127.0.0.1, ::1 or 0.0.0.0, got '" + host +
                    "'");
    const long long port = args.integer("port", 8080);
    const long long maxTokens = args.integer("max-tokens", options.request.maxTokens);
    const long long maxBytes =
        args.integer("max-request-bytes", options.connection.maxRequestBytes);
    const long long queue = args.integer("queue", (long long)options.queueCapacity);
    if (!args.error().empty()) return fail(args.error());
    if (port < 0 || port > 65535) return fail("--port expects 0 to 65535");
    if (maxTokens < 1 || maxTokens > 1'000'000) return fail("--max-tokens expects 1 to 1000000");
    if (maxBytes < 1024 || maxBytes > (1LL << 30))
        return fail("--max-request-bytes expects 1024 to 1073741824");
    if (queue < 1 || queue > 100'000) return fail("--queue expects 1 to 100000");
    options.port = quint16(port);
    options.request.maxTokens = int(maxTokens);
    options.connection.maxRequestBytes = maxBytes;
    options.queueCapacity = size_t(queue);
    if (auto key = args.value("api-key"))
        options.apiKey = QString::fromStdString(*key);
    else if (const char* environmentKey = std::getenv("HIPREADER_API_KEY"))
        options.apiKey = QString::fromUtf8(environmentKey);
    options.log = [](const QString& line) {
        std::fprintf(stderr, "%s\n", line.toLocal8Bit().constData());
    };

    const auto load = loadOptions(args);
    if (!load) return 1;

    // Books are read before the model loads, so a damaged file fails fast.
    std::vector<std::pair<std::string, hip::doc::DocumentText>> books;
    for (const std::string& path : args.values("doc")) {
        auto book = readDocumentFile(path, args.value("password"));
        if (!book) return 1;
        books.emplace_back(path, std::move(*book));
    }

    auto engine = loadEngine(*load);
    if (!engine) return 1;
    serve::ServedModel model(
        *engine,
        QString::fromStdString(std::filesystem::path(engine->info().path).stem().string()));
    for (auto& [path, text] : books) {
        auto session = engine->newSession();
        auto tokens = ingestDocumentFile(*session, text);
        if (!tokens) return 1;
        model.addDocument(
            {documentId(path, model), std::move(text), std::move(*tokens), std::move(session)});
    }

    int argc = 1;
    char name[] = "hipreader-cli";
    char* argv[] = {name, nullptr};
    QCoreApplication app(argc, argv);
    serve::OpenAiServer server(model, options);
    QString error;
    if (!server.listen(&error)) return fail(error.toStdString());
    quitOnSignals(app);

    const QString address = options.address.protocol() == QAbstractSocket::IPv6Protocol
                                ? '[' + options.address.toString() + ']'
                                : options.address.toString();
    std::fprintf(stderr, "serving %s at http://%s:%u/v1%s\n", model.id().toUtf8().constData(),
                 address.toUtf8().constData(), unsigned(server.port()),
                 options.apiKey.isEmpty() ? "" : " (API key required)");
    for (const serve::ServedDocument& d : model.documents())
        std::fprintf(stderr, "  document \"%s\": %s\n", d.id.toUtf8().constData(),
                     d.text.title.toUtf8().constData());
    if (!options.address.isLoopback())
        std::fprintf(stderr, "warning: %s is reachable from other machines%s\n",
                     address.toUtf8().constData(),
                     options.apiKey.isEmpty() ? "; anyone who reaches it can use it (set --api-key)"
                                              : "");
    const int status = app.exec();
    std::fprintf(stderr, "server stopped\n");
    return status;
}

} // namespace cli
