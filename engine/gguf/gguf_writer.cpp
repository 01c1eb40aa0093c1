#include "gguf/gguf_writer.h"

#include <bit>
#include <cassert>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

#include <unistd.h>

namespace hip::gguf {

static_assert(std::endian::native == std::endian::little, "the GGUF writer assumes little-endian");

namespace {

class ByteSink {
public:
    template <typename T> void put(T v) {
        const size_t at = bytes_.size();
        bytes_.resize(at + sizeof v);
        std::memcpy(bytes_.data() + at, &v, sizeof v);
    }
    void putString(const std::string& s) {
        put<uint64_t>(s.size());
        append(s.data(), s.size());
    }
    void append(const void* data, size_t size) {
        const auto* begin = static_cast<const uint8_t*>(data);
        bytes_.insert(bytes_.end(), begin, begin + size);
    }
    void padTo(uint64_t alignment) {
        bytes_.resize(bytes_.size() + (alignment - bytes_.size() % alignment) % alignment, 0);
    }
    std::vector<uint8_t> take() { return std::move(bytes_); }

private:
    std::vector<uint8_t> bytes_;
};

// Encodes the payload of `v` as `type` (for array items, the array's element type): the writer
// trusts the caller, so a Bool holding 2 is written as the byte 2.
void putValue(ByteSink& out, ValueType type, const Value& v) {
    switch (type) {
    case ValueType::UInt8:
        return out.put(static_cast<uint8_t>(v.u));
    case ValueType::Int8:
        return out.put(static_cast<int8_t>(v.i));
    case ValueType::UInt16:
        return out.put(static_cast<uint16_t>(v.u));
    case ValueType::Int16:
        return out.put(static_cast<int16_t>(v.i));
    case ValueType::UInt32:
        return out.put(static_cast<uint32_t>(v.u));
    case ValueType::Int32:
        return out.put(static_cast<int32_t>(v.i));
    case ValueType::UInt64:
        return out.put(v.u);
    case ValueType::Int64:
        return out.put(v.i);
    case ValueType::Float32:
        return out.put(static_cast<float>(v.f));
    case ValueType::Float64:
        return out.put(v.f);
    case ValueType::Bool:
        return out.put(static_cast<uint8_t>(v.u));
    case ValueType::String:
        return out.putString(v.s);
    case ValueType::Array:
        out.put(static_cast<uint32_t>(v.elementType));
        out.put<uint64_t>(v.items.size());
        for (const Value& item : v.items)
            putValue(out, v.elementType, item);
        return;
    }
}

Value scalar(ValueType type) {
    Value v;
    v.type = type;
    return v;
}

template <typename T> Value arrayOf(ValueType elementType, const std::vector<T>& values, auto set) {
    Value array = scalar(ValueType::Array);
    array.elementType = elementType;
    array.items.reserve(values.size());
    for (const T& x : values) {
        Value item = scalar(elementType);
        set(item, x);
        array.items.push_back(std::move(item));
    }
    return array;
}

} // namespace

GgufWriter::GgufWriter(uint32_t version, uint32_t alignment)
    : version_(version), alignment_(alignment) {
    assert(alignment > 0 && "the layout alignment must be positive; set general.alignment to "
                            "write a bogus value");
    if (alignment != kDefaultAlignment) setUInt32("general.alignment", alignment);
}

void GgufWriter::setUInt32(const std::string& key, uint32_t v) {
    Value value = scalar(ValueType::UInt32);
    value.u = v;
    setValue(key, value);
}

void GgufWriter::setUInt64(const std::string& key, uint64_t v) {
    Value value = scalar(ValueType::UInt64);
    value.u = v;
    setValue(key, value);
}

void GgufWriter::setInt32(const std::string& key, int32_t v) {
    Value value = scalar(ValueType::Int32);
    value.i = v;
    setValue(key, value);
}

void GgufWriter::setFloat32(const std::string& key, float v) {
    Value value = scalar(ValueType::Float32);
    value.f = v;
    setValue(key, value);
}

void GgufWriter::setBool(const std::string& key, bool v) {
    Value value = scalar(ValueType::Bool);
    value.u = v ? 1 : 0;
    setValue(key, value);
}

void GgufWriter::setString(const std::string& key, const std::string& v) {
    Value value = scalar(ValueType::String);
    value.s = v;
    setValue(key, value);
}

void GgufWriter::setValue(const std::string& key, const Value& v) {
    for (auto& [existingKey, existingValue] : metadata_) {
        if (existingKey == key) {
            existingValue = v;
            return;
        }
    }
    metadata_.emplace_back(key, v);
}

void GgufWriter::setStringArray(const std::string& key, const std::vector<std::string>& v) {
    setValue(key,
             arrayOf(ValueType::String, v, [](Value& item, const std::string& s) { item.s = s; }));
}

void GgufWriter::setFloat32Array(const std::string& key, const std::vector<float>& v) {
    setValue(key, arrayOf(ValueType::Float32, v, [](Value& item, float f) { item.f = f; }));
}

void GgufWriter::setInt32Array(const std::string& key, const std::vector<int32_t>& v) {
    setValue(key, arrayOf(ValueType::Int32, v, [](Value& item, int32_t i) { item.i = i; }));
}

void GgufWriter::addTensor(const std::string& name, std::vector<int64_t> ne, quant::GgmlType type,
                           std::span<const uint8_t> data) {
    tensors_.push_back({name, std::move(ne), type, std::vector<uint8_t>(data.begin(), data.end())});
}

std::vector<uint8_t> GgufWriter::toBytes() const {
    ByteSink out;
    out.append("GGUF", 4);
    out.put(version_);
    out.put<uint64_t>(tensors_.size());
    out.put<uint64_t>(metadata_.size());
    for (const auto& [key, value] : metadata_) {
        out.putString(key);
        out.put(static_cast<uint32_t>(value.type));
        putValue(out, value.type, value);
    }

    uint64_t nextOffset = 0;
    for (const PendingTensor& t : tensors_) {
        out.putString(t.name);
        out.put(static_cast<uint32_t>(t.ne.size()));
        for (int64_t extent : t.ne)
            out.put(static_cast<uint64_t>(extent));
        out.put(static_cast<uint32_t>(t.type));
        out.put(nextOffset);
        nextOffset += t.data.size() + (alignment_ - t.data.size() % alignment_) % alignment_;
    }

    out.padTo(alignment_);
    for (const PendingTensor& t : tensors_) {
        out.append(t.data.data(), t.data.size());
        out.padTo(alignment_);
    }
    return out.take();
}

Status GgufWriter::writeFile(const std::filesystem::path& path) const {
    // Written next to the target and renamed over it, so readers never see a half-written file.
    std::filesystem::path temporary = path;
    temporary += ".tmp." + std::to_string(::getpid());
    const std::vector<uint8_t> bytes = toBytes();
    {
        std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
        file.write(reinterpret_cast<const char*>(bytes.data()),
                   static_cast<std::streamsize>(bytes.size()));
        file.close();
        if (!file) {
            const int writeError = errno; // std::ofstream leaves errno from the failing call
            std::error_code ignored;
            std::filesystem::remove(temporary, ignored);
            return {ErrorCode::InvalidArgument, "cannot write " + temporary.string() + ": " +
                                                    std::generic_category().message(writeError)};
        }
    }
    std::error_code error;
    std::filesystem::rename(temporary, path, error);
    if (error) {
        std::error_code ignored;
        std::filesystem::remove(temporary, ignored);
        return {ErrorCode::InvalidArgument, "cannot rename " + temporary.string() + " to " +
                                                path.string() + ": " + error.message()};
    }
    return Status::ok();
}

} // namespace hip::gguf
