#pragma once
// Reading GGUF files (versions 2 and 3): memory-mapped, every count, offset, size, dimension and
// type validated against the file before anything is handed out.

#include "hip/status.h"
#include "quant/ggml_type.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hip::gguf {

enum class ValueType : uint32_t {
    UInt8 = 0,
    Int8 = 1,
    UInt16 = 2,
    Int16 = 3,
    UInt32 = 4,
    Int32 = 5,
    Float32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    UInt64 = 10,
    Int64 = 11,
    Float64 = 12,
};

std::string_view valueTypeName(ValueType type);

// Used when the file has no general.alignment key.
inline constexpr uint32_t kDefaultAlignment = 32;

// One metadata value. Integers are widened to 64 bits (signedness kept in `type`), floats to
// double; arrays hold their elements (possibly nested arrays).
struct Value {
    ValueType type = ValueType::UInt8;
    ValueType elementType = ValueType::UInt8; // arrays only
    uint64_t u = 0;                           // UInt8/16/32/64 and Bool
    int64_t i = 0;                            // Int8/16/32/64
    double f = 0.0;                           // Float32/64
    std::string s;                            // String
    std::vector<Value> items;                 // Array

    bool isInteger() const;
    bool isFloat() const;
    std::string toDisplayString(size_t maxItems = 8) const; // for `info` and error messages
};

struct TensorInfo {
    std::string name;
    std::vector<int64_t> ne; // ne[0] is the contiguous dimension (reversed vs PyTorch)
    quant::GgmlType type = quant::GgmlType::F32;
    uint64_t offset = 0;           // relative to the start of the data section
    uint64_t bytes = 0;            // exact size of the data, without padding
    const uint8_t* data = nullptr; // points into the mapped file, valid while the GgufFile lives

    int64_t elementCount() const;
    int64_t rowLength() const { return ne.empty() ? 1 : ne[0]; }
    int64_t rowCount() const;        // product of ne[1..]; stays defined when ne[0] is 0
    std::string shapeString() const; // "[576, 49152]"
};

class GgufFile {
public:
    // Maps the file read-only and validates it completely.
    static Result<GgufFile> open(const std::filesystem::path& path);
    // Validates an in-memory image (copied); used by tests and tools.
    static Result<GgufFile> fromBytes(std::span<const uint8_t> bytes, std::string displayName);

    GgufFile(GgufFile&&) noexcept;
    GgufFile& operator=(GgufFile&&) noexcept;
    ~GgufFile();

    uint32_t version() const { return version_; }
    uint32_t alignment() const { return alignment_; }
    uint64_t fileSize() const { return size_; }
    uint64_t dataOffset() const { return dataOffset_; }
    const std::string& displayName() const { return displayName_; }

    const std::map<std::string, Value, std::less<>>& metadata() const { return metadata_; }
    const Value* find(std::string_view key) const;
    bool contains(std::string_view key) const { return find(key) != nullptr; }

    // Typed access. A missing key is NotFound unless a fallback is given; a key of the wrong type
    // is InvalidFile naming the key, the expected and the found type. Integer getters accept any
    // integer type whose value fits.
    Result<std::string> getString(std::string_view key) const;
    Result<std::string> getString(std::string_view key, std::string fallback) const;
    Result<uint64_t> getUInt(std::string_view key) const;
    Result<uint64_t> getUInt(std::string_view key, uint64_t fallback) const;
    Result<int64_t> getInt(std::string_view key) const;
    Result<double> getFloat(std::string_view key) const; // Float32/64 (or an integer)
    Result<double> getFloat(std::string_view key, double fallback) const;
    Result<bool> getBool(std::string_view key) const;
    Result<bool> getBool(std::string_view key, bool fallback) const;
    Result<std::vector<std::string>> getStringArray(std::string_view key) const;
    Result<std::vector<float>> getFloatArray(std::string_view key) const;
    Result<std::vector<int64_t>> getIntArray(std::string_view key) const;

    const std::vector<TensorInfo>& tensors() const { return tensors_; }
    const TensorInfo* findTensor(std::string_view name) const;

private:
    GgufFile() = default;
    struct Mapping;
    static Result<GgufFile> parse(std::unique_ptr<Mapping> mapping, std::string displayName);
    Status parseContents(); // fills the members below from mapping_; errors lack the display name

    std::unique_ptr<Mapping> mapping_;
    std::string displayName_;
    uint32_t version_ = 0;
    uint32_t alignment_ = kDefaultAlignment;
    uint64_t size_ = 0;
    uint64_t dataOffset_ = 0;
    std::map<std::string, Value, std::less<>> metadata_;
    std::vector<TensorInfo> tensors_;
    std::map<std::string, size_t, std::less<>> tensorIndex_;
};

} // namespace hip::gguf
