#pragma once
// What the `eval` evaluations share: result tables (markdown on stdout, CSV with --csv),
// progress on stderr, the default text, lists of lengths.

#include "arguments.h"

#include <hip/cancel.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cli {

using Clock = std::chrono::steady_clock;

// A result table: printed as markdown, written as CSV.
struct Table {
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;
};

void printMarkdown(const Table& table);
// Returns an empty string, or what went wrong.
std::string writeCsv(const Table& table, const std::string& path);
// `value` with `decimals` decimals; "n/a" when it is not finite.
std::string fixed(double value, int decimals);

// Progress on stderr: one updating line on a terminal; in a log, a line per stage and per tenth
// of it. endProgress clears the terminal's line.
hip::ProgressCallback progressPrinter();
void endProgress();

// "1024,2K,32k" -> 1024, 2048, 32768.
std::optional<std::vector<int64_t>> parseLengths(const std::string& text);

// The text of --text, or of the default public-domain book; on failure prints why.
std::optional<std::string> readText(Arguments& args);

// Prints the table, writes --csv, and reports the wall time since `start` on stderr.
int finish(Arguments& args, const Table& table, Clock::time_point start);

} // namespace cli
