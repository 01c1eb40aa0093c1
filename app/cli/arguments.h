#pragma once
// Command-line arguments: positional words and --name value / --flag options.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace cli {

class Arguments {
public:
    // `flags` are options that take no value. Unknown options are kept; commands check them
    // with rejectUnknown().
    Arguments(int argc, char** argv, std::set<std::string> flags);

    const std::vector<std::string>& positional() const { return positional_; }
    bool has(const std::string& name) const;
    std::optional<std::string> value(const std::string& name) const;
    std::string value(const std::string& name, const std::string& fallback) const;
    // Every value of an option given more than once (value() is the last).
    std::vector<std::string> values(const std::string& name) const;
    // Numeric options; a malformed number is reported through error().
    long long integer(const std::string& name, long long fallback);
    double number(const std::string& name, double fallback);

    // Records an error for any option not in `known`; returns false if there is any error.
    bool validate(const std::set<std::string>& known);
    const std::string& error() const { return error_; }

private:
    std::vector<std::string> positional_;
    std::map<std::string, std::string> options_;
    std::map<std::string, std::vector<std::string>> repeated_;
    std::set<std::string> flags_;
    std::string error_;
};

} // namespace cli
