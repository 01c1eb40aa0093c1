#pragma once
// The listening socket of the server, with the limits Qt HttpServer 6.4 does not have: it reads
// any request to its end into memory and waits for it without end. Here every connection is
// watched from its first byte: a request (headers and body) larger than the limit is answered
// 413, one that does not arrive whole in time 408, and both connections are closed; idle
// connections are closed after a while, and past a number of open connections new ones get 503.

#include <QByteArray>
#include <QTcpServer>

#include <functional>

class QTcpSocket;

namespace serve {

struct ConnectionLimits {
    qint64 maxRequestBytes = 1 << 20; // headers and body of one request
    int requestSeconds = 30;          // from a request's first byte to its last
    int idleSeconds = 120;            // between requests on a kept-alive connection
    int maxConnections = 128;
};

class GuardedTcpServer : public QTcpServer {
    Q_OBJECT
public:
    // `refusal` builds the body of a refusal (status, message) in the server's error format.
    GuardedTcpServer(ConnectionLimits limits,
                     std::function<QByteArray(int status, const QString& message)> refusal,
                     QObject* parent = nullptr);

    // While a response is being produced for `socket`, it is not idle.
    static void setResponding(QTcpSocket* socket, bool responding);
    static bool isResponding(const QTcpSocket* socket);
    int openConnections() const { return open_; }

protected:
    void incomingConnection(qintptr descriptor) override;

private:
    ConnectionLimits limits_;
    std::function<QByteArray(int, const QString&)> refusal_;
    int open_ = 0;
};

} // namespace serve
