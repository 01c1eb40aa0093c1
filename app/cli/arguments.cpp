#include "arguments.h"

#include <charconv>
#include <cstdlib>

namespace cli {

Arguments::Arguments(int argc, char** argv, std::set<std::string> flags)
    : flags_(std::move(flags)) {
    for (int i = 0; i < argc; ++i) {
        std::string word = argv[i];
        if (word.rfind("--", 0) != 0 || word.size() == 2) {
            positional_.push_back(word);
            continue;
        }
        std::string name = word.substr(2);
        std::string text;
        if (const auto eq = name.find('='); eq != std::string::npos) {
            text = name.substr(eq + 1);
            name.resize(eq);
        } else if (flags_.count(name)) {
            text = "1";
        } else if (i + 1 < argc) {
            text = argv[++i];
        } else {
            error_ = "option --" + name + " needs a value";
            continue;
        }
        options_[name] = text;
        repeated_[name].push_back(text);
    }
}

bool Arguments::has(const std::string& name) const {
    return options_.count(name) != 0;
}

std::optional<std::string> Arguments::value(const std::string& name) const {
    auto it = options_.find(name);
    if (it == options_.end()) return std::nullopt;
    return it->second;
}

std::string Arguments::value(const std::string& name, const std::string& fallback) const {
    return value(name).value_or(fallback);
}

std::vector<std::string> Arguments::values(const std::string& name) const {
    auto it = repeated_.find(name);
    return it == repeated_.end() ? std::vector<std::string>{} : it->second;
}

long long Arguments::integer(const std::string& name, long long fallback) {
    const std::optional<std::string> text = value(name);
    if (!text) return fallback;
    const std::string& digits = *text;
    const char* const last = digits.data() + digits.size();
    long long result = 0;
    auto [end, ec] = std::from_chars(digits.data(), last, result);
    if (ec != std::errc() || end != last) {
        error_ = "--" + name + " expects an integer, got '" + digits + "'";
        return fallback;
    }
    return result;
}

double Arguments::number(const std::string& name, double fallback) {
    auto text = value(name);
    if (!text) return fallback;
    char* end = nullptr;
    const double result = std::strtod(text->c_str(), &end);
    if (text->empty() || *end != '\0') {
        error_ = "--" + name + " expects a number, got '" + *text + "'";
        return fallback;
    }
    return result;
}

bool Arguments::validate(const std::set<std::string>& known) {
    for (const auto& [name, value] : options_)
        if (!known.count(name) && error_.empty()) error_ = "unknown option --" + name;
    return error_.empty();
}

} // namespace cli
