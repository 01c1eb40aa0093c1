#include "guarded_tcp_server.h"

#include <QElapsedTimer>
#include <QTcpSocket>
#include <QTimer>

#include <sys/socket.h>

namespace serve {
namespace {

const char* const kResponding = "hipreader.responding";
constexpr int kLingerMilliseconds = 5000;

QByteArray refusalResponse(int status, const char* reason, const QByteArray& body) {
    return "HTTP/1.1 " + QByteArray::number(status) + ' ' + reason +
           "\r\nContent-Type: application/json\r\nContent-Length: " +
           QByteArray::number(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

// Sends `response` and closes the connection gracefully: the sending side is shut once the
// response is out, and what the client still sends is read and dropped for a few seconds, so
// its unread bytes do not reset the connection before it has read the answer.
void answerAndClose(QTcpSocket* socket, const QByteArray& response) {
    QObject::disconnect(socket, &QTcpSocket::readyRead, nullptr, nullptr);
    QObject::connect(socket, &QTcpSocket::readyRead, socket, [socket] { socket->readAll(); });
    QObject::connect(socket, &QTcpSocket::bytesWritten, socket, [socket] {
        if (socket->bytesToWrite() == 0) ::shutdown(int(socket->socketDescriptor()), SHUT_WR);
    });
    QTimer::singleShot(kLingerMilliseconds, socket, [socket] { socket->abort(); });
    socket->write(response);
}

// Watches one connection; a child of its socket.
class ConnectionGuard : public QObject {
public:
    ConnectionGuard(QTcpSocket* socket, const ConnectionLimits& limits,
                    const std::function<QByteArray(int, const QString&)>& refusal)
        : QObject(socket), socket_(socket), limits_(limits), refusal_(refusal) {
        idle_.start();
        // Connected before the HTTP server's own handler, so this one sees new bytes first.
        connect(socket, &QTcpSocket::readyRead, this, &ConnectionGuard::onReadyRead);
        auto* clock = new QTimer(this);
        connect(clock, &QTimer::timeout, this, &ConnectionGuard::onTick);
        clock->start(1000);
    }

private:
    void onReadyRead() {
        // Qt HttpServer reads a request inside a socket transaction that it commits when the
        // request is whole: no open transaction means these bytes begin a new request.
        if (!socket_->isTransactionStarted()) {
            requestBytes_ = 0;
            request_.start();
        }
        idle_.start();
        requestBytes_ += socket_->bytesAvailable();
        if (requestBytes_ > limits_.maxRequestBytes)
            refuse(413, "Payload Too Large",
                   "The request is larger than " + QString::number(limits_.maxRequestBytes) +
                       " bytes");
    }

    void onTick() {
        if (socket_->property(kResponding).toBool()) {
            idle_.start();
            return;
        }
        if (socket_->isTransactionStarted() && request_.isValid() &&
            request_.elapsed() > qint64(limits_.requestSeconds) * 1000)
            refuse(408, "Request Timeout",
                   "The request did not arrive whole within " +
                       QString::number(limits_.requestSeconds) + " seconds");
        else if (!socket_->isTransactionStarted() &&
                 idle_.elapsed() > qint64(limits_.idleSeconds) * 1000)
            socket_->disconnectFromHost();
    }

    // Answers with an error and closes the connection; the HTTP server sees no more of it.
    void refuse(int status, const char* reason, const QString& message) {
        answerAndClose(socket_, refusalResponse(status, reason, refusal_(status, message)));
        deleteLater(); // the guard's work on this connection is done
    }

    QTcpSocket* socket_;
    const ConnectionLimits& limits_;
    const std::function<QByteArray(int, const QString&)>& refusal_;
    qint64 requestBytes_ = 0;
    QElapsedTimer request_;
    QElapsedTimer idle_;
};

} // namespace

GuardedTcpServer::GuardedTcpServer(ConnectionLimits limits,
                                   std::function<QByteArray(int, const QString&)> refusal,
                                   QObject* parent)
    : QTcpServer(parent), limits_(limits), refusal_(std::move(refusal)) {}

void GuardedTcpServer::setResponding(QTcpSocket* socket, bool responding) {
    socket->setProperty(kResponding, responding);
}

bool GuardedTcpServer::isResponding(const QTcpSocket* socket) {
    return socket->property(kResponding).toBool();
}

void GuardedTcpServer::incomingConnection(qintptr descriptor) {
    auto* socket = new QTcpSocket(this);
    if (!socket->setSocketDescriptor(descriptor)) {
        delete socket;
        return;
    }
    if (open_ >= limits_.maxConnections) {
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        answerAndClose(socket,
                       refusalResponse(503, "Service Unavailable",
                                       refusal_(503, "The server has " + QString::number(open_) +
                                                         " open connections; try again later")));
        return;
    }
    ++open_;
    connect(socket, &QObject::destroyed, this, [this] { --open_; });
    new ConnectionGuard(socket, limits_, refusal_);
    addPendingConnection(socket);
}

} // namespace serve
