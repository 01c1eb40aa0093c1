#pragma once
// The readers of documents and chats take paths: a fuzz input becomes a file in a folder of this
// process (under /dev/shm when there is one, so the many executions of a run stay off the disk),
// removed when the process exits normally. libFuzzer often ends with _Exit, so each process also
// removes the folders of processes that are gone.

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>

namespace hipfuzz {

inline const std::filesystem::path& scratchFolder() {
    static const std::filesystem::path folder = [] {
        const std::filesystem::path base = access("/dev/shm", W_OK) == 0
                                               ? std::filesystem::path("/dev/shm")
                                               : std::filesystem::temp_directory_path();
        const std::string prefix = "hipreader-fuzz-";
        std::error_code ignored; // a folder that cannot be listed or removed is left alone
        for (const auto& entry : std::filesystem::directory_iterator(base, ignored)) {
            const std::string name = entry.path().filename().string();
            if (name.rfind(prefix, 0) != 0) continue;
            const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
            if (pid > 0 && kill(pid_t(pid), 0) != 0 && errno == ESRCH)
                std::filesystem::remove_all(entry.path(), ignored);
        }
        std::filesystem::path path = base / (prefix + std::to_string(getpid()));
        std::filesystem::create_directories(path);
        std::atexit([] {
            std::error_code notRemoved;
            std::filesystem::remove_all(scratchFolder(), notRemoved);
        });
        return path;
    }();
    return folder;
}

// Writes the input to `name` in the scratch folder and returns its path.
inline std::string writeInput(const std::string& name, const uint8_t* data, size_t size) {
    const std::string path = (scratchFolder() / name).string();
    FILE* file = std::fopen(path.c_str(), "wb");
    if (!file || std::fwrite(data, 1, size, file) != size || std::fclose(file) != 0) std::abort();
    return path;
}

} // namespace hipfuzz
