#pragma once
// A small GGUF writer for tests and tools (random-weight models, damaged-file fixtures). It writes
// exactly what it is told, so tests can also produce invalid files on purpose.

#include "gguf/gguf_file.h"

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace hip::gguf {

class GgufWriter {
public:
    // `alignment` lays out the data section; when it is not the default 32 the writer also records
    // it as general.alignment (set that key yourself to write another, even invalid, value).
    // Counts are always 64-bit (the v2/v3 layout), whatever `version` says.
    explicit GgufWriter(uint32_t version = 3, uint32_t alignment = 32);

    // Setting a key that is already present replaces its value in place.
    void setUInt32(const std::string& key, uint32_t v);
    void setUInt64(const std::string& key, uint64_t v);
    void setInt32(const std::string& key, int32_t v);
    void setFloat32(const std::string& key, float v);
    void setBool(const std::string& key, bool v);
    void setString(const std::string& key, const std::string& v);
    void setValue(const std::string& key, const Value& v); // any type, arrays included
    void setStringArray(const std::string& key, const std::vector<std::string>& v);
    void setFloat32Array(const std::string& key, const std::vector<float>& v);
    void setInt32Array(const std::string& key, const std::vector<int32_t>& v);

    // `data` must hold the tensor's bytes (quant::rowBytes of its shape); the writer pads it.
    void addTensor(const std::string& name, std::vector<int64_t> ne, quant::GgmlType type,
                   std::span<const uint8_t> data);

    std::vector<uint8_t> toBytes() const;
    Status writeFile(const std::filesystem::path& path) const;

private:
    struct PendingTensor {
        std::string name;
        std::vector<int64_t> ne;
        quant::GgmlType type;
        std::vector<uint8_t> data;
    };
    uint32_t version_;
    uint32_t alignment_;
    std::vector<std::pair<std::string, Value>> metadata_; // in insertion order
    std::vector<PendingTensor> tensors_;
};

} // namespace hip::gguf
