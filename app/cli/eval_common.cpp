#include "eval_common.h"

#include "cli_common.h"

#include <hip/evaluation.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include <unistd.h>

namespace cli {
void printMarkdown(const Table& table) {
    auto printRow = [](const std::vector<std::string>& cells) {
        std::string line = "|";
        for (const std::string& cell : cells)
            line += " " + cell + " |";
        std::puts(line.c_str());
    };
    printRow(table.header);
    printRow(std::vector<std::string>(table.header.size(), "---"));
    for (const auto& row : table.rows)
        printRow(row);
}

namespace {

std::string csvField(const std::string& text) {
    if (text.find_first_of(",\"\n") == std::string::npos) return text;
    std::string quoted = "\"";
    for (char c : text)
        quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    return quoted + "\"";
}

} // namespace

std::string writeCsv(const Table& table, const std::string& path) {
    std::ofstream out(path);
    auto writeRow = [&](const std::vector<std::string>& cells) {
        for (size_t i = 0; i < cells.size(); ++i)
            out << (i ? "," : "") << csvField(cells[i]);
        out << '\n';
    };
    writeRow(table.header);
    for (const auto& row : table.rows)
        writeRow(row);
    out.close();
    return out ? std::string() : "cannot write " + path;
}

std::string fixed(double value, int decimals) {
    if (!std::isfinite(value)) return "n/a";
    char text[64];
    std::snprintf(text, sizeof text, "%.*f", decimals, value);
    return text;
}

hip::ProgressCallback progressPrinter() {
    struct Shown {
        std::string stage;
        int64_t tenth = -1;
    };
    auto shown = std::make_shared<Shown>();
    const bool terminal = isatty(STDERR_FILENO);
    const auto start = Clock::now();
    return [=](const hip::Progress& p) {
        const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
        if (terminal) {
            std::fprintf(stderr, "\r[%5.0f s] %s %lld/%lld\033[K", seconds, p.stage.c_str(),
                         (long long)p.done, (long long)p.total);
            return;
        }
        const int64_t tenth = p.total > 0 ? p.done * 10 / p.total : 0;
        if (p.stage == shown->stage && tenth == shown->tenth) return;
        shown->stage = p.stage;
        shown->tenth = tenth;
        std::fprintf(stderr, "[%5.0f s] %s %lld/%lld\n", seconds, p.stage.c_str(),
                     (long long)p.done, (long long)p.total);
    };
}

void endProgress() {
    if (isatty(STDERR_FILENO)) std::fputs("\r\033[K", stderr);
}

std::optional<std::vector<int64_t>> parseLengths(const std::string& text) {
    std::vector<int64_t> values;
    std::istringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) {
        char* end = nullptr;
        long long value = std::strtoll(item.c_str(), &end, 10);
        if (end == item.c_str()) return std::nullopt;
        if (*end == 'k' || *end == 'K') {
            value *= 1024;
            ++end;
        }
        if (*end != '\0' || value <= 0) return std::nullopt;
        values.push_back(value);
    }
    if (values.empty()) return std::nullopt;
    return values;
}

std::optional<std::string> readText(Arguments& args) {
    const std::string path = args.value("text", hip::eval::kDefaultTextPath);
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        fail("cannot read " + path +
             (args.has("text") ? std::string()
                               : " (the default text; install the Debian package golang-1.19-src "
                                 "or pass --text FILE)"));
        return std::nullopt;
    }
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

int finish(Arguments& args, const Table& table, Clock::time_point start) {
    printMarkdown(table);
    std::fflush(stdout);
    if (auto path = args.value("csv"))
        if (const std::string error = writeCsv(table, *path); !error.empty()) return fail(error);
    std::fprintf(stderr, "eval finished in %.0f s\n",
                 std::chrono::duration<double>(Clock::now() - start).count());
    return 0;
}

} // namespace cli
