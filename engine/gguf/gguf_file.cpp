#include "gguf/gguf_file.h"

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <new>
#include <system_error>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace hip::gguf {

// Fields are copied out with memcpy as they lie in the file; a big-endian host would need swaps.
static_assert(std::endian::native == std::endian::little, "the GGUF reader assumes little-endian");

namespace {

constexpr uint32_t kMagic = 0x46554747;      // "GGUF" read as a little-endian uint32
constexpr uint64_t kMaxTensorNameBytes = 64; // GGML_MAX_NAME
constexpr uint32_t kMaxDims = 4;             // GGML_MAX_DIMS
// Real files nest arrays at most once; the limit bounds the parser's recursion.
constexpr int kMaxArrayNesting = 8;
// Every metadata value becomes a Value of ~90 bytes, even a one-byte uint8 item, so a hostile file
// could turn megabytes into gigabytes. The largest real metadata (vocabularies of 256k tokens with
// scores and types) needs under a million values.
constexpr uint64_t kMaxMetadataValues = uint64_t{1} << 22;
// Smallest possible encodings, to bound counts by the bytes left before anything is allocated.
constexpr uint64_t kMinMetadataEntryBytes = 8 + 4 + 1;      // key length, type, one-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8; // name length, n_dims, ne, type, offset
// In-memory images get the alignment a mapping has, so tensor data is equally well aligned.
constexpr size_t kOwnedBufferAlignment = 4096;
constexpr size_t kDisplayStringBytes = 80;

std::string str(uint64_t v) {
    return std::to_string(v);
}

// `s` with control characters and `quote` escaped, cut at a UTF-8 character boundary after
// `maxBytes` bytes: file contents are untrusted and may be huge or binary.
std::string escaped(std::string_view s, char quote, size_t maxBytes) {
    size_t end = s.size();
    if (end > maxBytes) {
        end = maxBytes;
        while (end > 0 && (static_cast<uint8_t>(s[end]) & 0xC0) == 0x80)
            --end;
    }
    std::string out(1, quote);
    for (char c : s.substr(0, end)) {
        const auto byte = static_cast<uint8_t>(c);
        if (c == quote || c == '\\') {
            out += '\\';
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\t') {
            out += "\\t";
        } else if (c == '\r') {
            out += "\\r";
        } else if (byte < 0x20 || byte == 0x7F) {
            constexpr char kHex[] = "0123456789abcdef";
            out += "\\x";
            out += kHex[byte >> 4];
            out += kHex[byte & 0xF];
        } else {
            out += c;
        }
    }
    if (end < s.size()) out += "...";
    out += quote;
    return out;
}

// A key or tensor name as it appears in messages.
std::string quotedName(std::string_view name) {
    return escaped(name, '\'', kDisplayStringBytes);
}

std::string formatFloat(double f, ValueType type) {
    char buffer[64];
    const auto result = type == ValueType::Float32
                            ? std::to_chars(buffer, buffer + sizeof buffer, static_cast<float>(f))
                            : std::to_chars(buffer, buffer + sizeof buffer, f);
    return std::string(buffer, result.ptr);
}

Status invalid(const std::string& message) {
    return {ErrorCode::InvalidFile, message};
}

bool isSignedIntegerType(ValueType type) {
    return type == ValueType::Int8 || type == ValueType::Int16 || type == ValueType::Int32 ||
           type == ValueType::Int64;
}

bool isUnsignedIntegerType(ValueType type) {
    return type == ValueType::UInt8 || type == ValueType::UInt16 || type == ValueType::UInt32 ||
           type == ValueType::UInt64;
}

std::optional<ValueType> toValueType(uint32_t raw) {
    if (raw > static_cast<uint32_t>(ValueType::Float64)) return std::nullopt;
    return static_cast<ValueType>(raw);
}

uint64_t minEncodedBytes(ValueType type) {
    switch (type) {
    case ValueType::UInt8:
    case ValueType::Int8:
    case ValueType::Bool:
        return 1;
    case ValueType::UInt16:
    case ValueType::Int16:
        return 2;
    case ValueType::UInt32:
    case ValueType::Int32:
    case ValueType::Float32:
        return 4;
    case ValueType::UInt64:
    case ValueType::Int64:
    case ValueType::Float64:
    case ValueType::String: // the length alone
        return 8;
    case ValueType::Array: // element type and count
        return 12;
    }
    return 1;
}

std::string typeDescription(const Value& v) {
    if (v.type == ValueType::Array) return "array of " + std::string(valueTypeName(v.elementType));
    return std::string(valueTypeName(v.type));
}

std::string shapeOf(const std::vector<int64_t>& ne) {
    std::string out = "[";
    for (size_t d = 0; d < ne.size(); ++d)
        out += (d ? ", " : "") + std::to_string(ne[d]);
    return out + "]";
}

uint64_t alignUp(uint64_t offset, uint64_t alignment) {
    return offset + (alignment - offset % alignment) % alignment;
}

// Bounds-checked reads from the file image. Errors name the field (`what`) and the offset.
class Cursor {
public:
    Cursor(const uint8_t* bytes, uint64_t size) : bytes_(bytes), size_(size) {}

    uint64_t offset() const { return offset_; }
    uint64_t remaining() const { return size_ - offset_; }

    template <typename T> Status read(T& out, std::string_view what) {
        if (remaining() < sizeof(T)) return truncated(sizeof(T), what);
        std::memcpy(&out, bytes_ + offset_, sizeof(T));
        offset_ += sizeof(T);
        return Status::ok();
    }

    Status readString(std::string& out, std::string_view what) {
        uint64_t length = 0;
        HIP_TRY(read(length, what));
        if (length > remaining())
            return invalid(std::string(what) + ": string length " + str(length) + " at offset " +
                           str(offset_ - sizeof length) + " exceeds the " + str(remaining()) +
                           " bytes left in the file: the file is truncated or corrupt");
        out.assign(reinterpret_cast<const char*>(bytes_ + offset_), length);
        offset_ += length;
        return Status::ok();
    }

private:
    Status truncated(uint64_t needed, std::string_view what) const {
        return invalid(std::string(what) + ": the " + str(needed) + "-byte field at offset " +
                       str(offset_) + " runs past the end of the file (" + str(size_) +
                       " bytes): the file is truncated");
    }

    const uint8_t* bytes_;
    uint64_t size_;
    uint64_t offset_ = 0;
};

Status readHeader(Cursor& cursor, uint64_t fileSize, uint32_t& version, uint64_t& tensorCount,
                  uint64_t& metadataCount) {
    uint32_t magic = 0;
    if (fileSize < sizeof magic)
        return invalid("the file is " + str(fileSize) + " bytes long, too short to be a GGUF file");
    HIP_TRY(cursor.read(magic, "magic"));
    if (magic != kMagic) {
        std::string found(4, '\0');
        std::memcpy(found.data(), &magic, sizeof magic);
        return invalid("not a GGUF file: expected the magic \"GGUF\" at offset 0, found " +
                       escaped(found, '"', 4));
    }
    HIP_TRY(cursor.read(version, "version"));
    if (version == 1)
        return invalid("GGUF version 1 (32-bit counts) is not supported: convert the model again "
                       "with a current llama.cpp");
    if (const uint32_t bigEndianVersion = version >> 24;
        (version & 0x00FFFFFF) == 0 && (bigEndianVersion == 2 || bigEndianVersion == 3))
        return invalid("the file is big-endian GGUF (version " + str(bigEndianVersion) +
                       "); only little-endian files are supported");
    if (version != 2 && version != 3)
        return invalid("unsupported GGUF version " + str(version) +
                       " at offset 4: expected 2 or 3");
    HIP_TRY(cursor.read(tensorCount, "tensor count"));
    HIP_TRY(cursor.read(metadataCount, "metadata count"));
    if (metadataCount > cursor.remaining() / kMinMetadataEntryBytes)
        return invalid("metadata count " + str(metadataCount) + " at offset 16 cannot fit in the " +
                       str(cursor.remaining()) +
                       " bytes left in the file: the file is truncated or corrupt");
    if (tensorCount > cursor.remaining() / kMinTensorInfoBytes)
        return invalid("tensor count " + str(tensorCount) + " at offset 8 cannot fit in the " +
                       str(cursor.remaining()) +
                       " bytes left in the file: the file is truncated or corrupt");
    return Status::ok();
}

class MetadataReader {
public:
    explicit MetadataReader(Cursor& cursor) : cursor_(cursor) {}

    Status readAll(uint64_t count, std::map<std::string, Value, std::less<>>& metadata) {
        for (uint64_t entry = 0; entry < count; ++entry) {
            const uint64_t entryOffset = cursor_.offset();
            std::string key;
            HIP_TRY(cursor_.readString(key, "key of metadata entry " + str(entry)));
            if (key.empty())
                return invalid("metadata entry " + str(entry) + " at offset " + str(entryOffset) +
                               " has an empty key");
            const std::string context = "metadata key " + quotedName(key);
            if (metadata.contains(key))
                return invalid(context + ": duplicate key at offset " + str(entryOffset) +
                               " (each key may appear only once)");
            HIP_TRY(spendValues(1, context, entryOffset));

            uint32_t rawType = 0;
            HIP_TRY(cursor_.read(rawType, context));
            const std::optional<ValueType> type = toValueType(rawType);
            if (!type)
                return invalid(context + ": unknown value type " + str(rawType) + " at offset " +
                               str(cursor_.offset() - sizeof rawType));
            Value value;
            HIP_TRY(readValue(*type, value, context, 0));
            metadata.emplace(std::move(key), std::move(value));
        }
        return Status::ok();
    }

private:
    Status readValue(ValueType type, Value& out, const std::string& context, int nesting) {
        out.type = type;
        switch (type) {
        case ValueType::UInt8:
            return readUnsigned<uint8_t>(out, context);
        case ValueType::UInt16:
            return readUnsigned<uint16_t>(out, context);
        case ValueType::UInt32:
            return readUnsigned<uint32_t>(out, context);
        case ValueType::UInt64:
            return readUnsigned<uint64_t>(out, context);
        case ValueType::Int8:
            return readSigned<int8_t>(out, context);
        case ValueType::Int16:
            return readSigned<int16_t>(out, context);
        case ValueType::Int32:
            return readSigned<int32_t>(out, context);
        case ValueType::Int64:
            return readSigned<int64_t>(out, context);
        case ValueType::Float32: {
            float f = 0;
            HIP_TRY(cursor_.read(f, context));
            out.f = f;
            return Status::ok();
        }
        case ValueType::Float64:
            return cursor_.read(out.f, context);
        case ValueType::Bool: {
            uint8_t byte = 0;
            HIP_TRY(cursor_.read(byte, context));
            if (byte > 1)
                return invalid(context + ": bool value " + str(byte) + " at offset " +
                               str(cursor_.offset() - 1) + " (must be 0 or 1)");
            out.u = byte;
            return Status::ok();
        }
        case ValueType::String:
            return cursor_.readString(out.s, context);
        case ValueType::Array:
            return readArray(out, context, nesting);
        }
        return invalid(context + ": unknown value type"); // unreachable: callers pass enumerators
    }

    Status readArray(Value& out, const std::string& context, int nesting) {
        const uint64_t arrayOffset = cursor_.offset();
        if (nesting == kMaxArrayNesting)
            return invalid(context + ": arrays nested more than " + str(kMaxArrayNesting) +
                           " deep at offset " + str(arrayOffset));
        uint32_t rawElementType = 0;
        HIP_TRY(cursor_.read(rawElementType, context));
        const std::optional<ValueType> elementType = toValueType(rawElementType);
        if (!elementType)
            return invalid(context + ": unknown array element type " + str(rawElementType) +
                           " at offset " + str(arrayOffset));
        out.elementType = *elementType;

        uint64_t count = 0;
        HIP_TRY(cursor_.read(count, context));
        const uint64_t minBytes = minEncodedBytes(*elementType);
        if (count > cursor_.remaining() / minBytes)
            return invalid(context + ": array count " + str(count) + " at offset " +
                           str(cursor_.offset() - sizeof count) + " cannot fit in the " +
                           str(cursor_.remaining()) + " bytes left in the file (each " +
                           std::string(valueTypeName(*elementType)) + " takes at least " +
                           str(minBytes) + "): the file is truncated or corrupt");
        HIP_TRY(spendValues(count, context, arrayOffset));
        out.items.resize(count);
        for (Value& item : out.items)
            HIP_TRY(readValue(*elementType, item, context, nesting + 1));
        return Status::ok();
    }

    template <typename T> Status readUnsigned(Value& out, const std::string& context) {
        T v = 0;
        HIP_TRY(cursor_.read(v, context));
        out.u = v;
        return Status::ok();
    }

    template <typename T> Status readSigned(Value& out, const std::string& context) {
        T v = 0;
        HIP_TRY(cursor_.read(v, context));
        out.i = v; // NOLINT(bugprone-signed-char-misuse): GGUF's INT8 is signed
        return Status::ok();
    }

    Status spendValues(uint64_t count, const std::string& context, uint64_t offset) {
        if (count > valuesLeft_)
            return invalid(context + ": the value at offset " + str(offset) +
                           " takes the metadata past " + str(kMaxMetadataValues) +
                           " values in total, far more than any real model holds");
        valuesLeft_ -= count;
        return Status::ok();
    }

    Cursor& cursor_;
    uint64_t valuesLeft_ = kMaxMetadataValues;
};

Status readAlignment(const std::map<std::string, Value, std::less<>>& metadata,
                     uint32_t& alignment) {
    const auto it = metadata.find("general.alignment");
    if (it == metadata.end()) {
        alignment = kDefaultAlignment;
        return Status::ok();
    }
    const Value& v = it->second;
    if (v.type != ValueType::UInt32)
        return invalid("metadata key 'general.alignment' is " + typeDescription(v) +
                       ", expected uint32");
    if (!std::has_single_bit(v.u))
        return invalid("metadata key 'general.alignment' is " + str(v.u) +
                       ": expected a non-zero power of two");
    alignment = static_cast<uint32_t>(v.u);
    return Status::ok();
}

// Reads one tensor info and checks everything that does not depend on where the data section
// starts: name, shape, type, byte size and offset alignment.
Status readTensorInfo(Cursor& cursor, uint64_t index, uint32_t alignment, TensorInfo& t) {
    const uint64_t infoOffset = cursor.offset();
    HIP_TRY(cursor.readString(t.name, "name of tensor " + str(index)));
    const std::string context = "tensor " + quotedName(t.name);
    if (t.name.empty())
        return invalid("tensor " + str(index) + " at offset " + str(infoOffset) +
                       " has an empty name");
    if (t.name.size() > kMaxTensorNameBytes)
        return invalid(context + ": name at offset " + str(infoOffset) + " is " +
                       str(t.name.size()) + " bytes long; the limit is " +
                       str(kMaxTensorNameBytes) + " (GGML_MAX_NAME)");

    uint32_t dims = 0;
    HIP_TRY(cursor.read(dims, context));
    if (dims < 1 || dims > kMaxDims)
        return invalid(context + ": n_dims is " + str(dims) + " at offset " +
                       str(cursor.offset() - sizeof dims) + ", expected 1 to " + str(kMaxDims));
    t.ne.resize(dims);
    for (uint32_t d = 0; d < dims; ++d) {
        uint64_t extent = 0;
        HIP_TRY(cursor.read(extent, context));
        if (extent > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
            return invalid(context + ": dimension " + str(d) + " is " + str(extent) +
                           " at offset " + str(cursor.offset() - sizeof extent) +
                           ", more than the 2^63-1 ggml allows");
        t.ne[d] = static_cast<int64_t>(extent);
    }

    uint32_t rawType = 0;
    HIP_TRY(cursor.read(rawType, context));
    const std::optional<quant::TypeTraits> traits = quant::typeTraits(rawType);
    if (!traits)
        return invalid(context + ": unknown ggml type " + str(rawType) + " at offset " +
                       str(cursor.offset() - sizeof rawType) +
                       " (removed from ggml or newer than this reader)");
    t.type = traits->type;
    HIP_TRY(cursor.read(t.offset, context));

    int64_t rows = 1;
    for (uint32_t d = 1; d < dims; ++d) {
        if (t.ne[d] != 0 && rows > std::numeric_limits<int64_t>::max() / t.ne[d])
            return invalid(context + ": shape " + shapeOf(t.ne) + " has more than 2^63-1 elements");
        rows *= t.ne[d];
    }
    if (rows != 0 && t.ne[0] > std::numeric_limits<int64_t>::max() / rows)
        return invalid(context + ": shape " + shapeOf(t.ne) + " has more than 2^63-1 elements");
    if (t.ne[0] % traits->blockSize != 0)
        return invalid(context + ": rows of " + str(t.ne[0]) + " elements are not a multiple of " +
                       std::string(traits->name) + "'s block size " + str(traits->blockSize));
    const std::optional<uint64_t> rowBytes = quant::rowBytes(t.type, t.ne[0]);
    const auto rowCount = static_cast<uint64_t>(rows);
    if (!rowBytes || (rowCount != 0 && *rowBytes > std::numeric_limits<uint64_t>::max() / rowCount))
        return invalid(context + ": shape " + shapeOf(t.ne) + " of " + std::string(traits->name) +
                       " takes more than 2^64 bytes");
    t.bytes = *rowBytes * rowCount;
    if (t.offset % alignment != 0)
        return invalid(context + ": data offset " + str(t.offset) +
                       " is not a multiple of the alignment " + str(alignment) +
                       " (tensor info at offset " + str(infoOffset) + ")");
    return Status::ok();
}

std::string placement(const TensorInfo& t, uint64_t dataOffset) {
    return "[offset " + str(dataOffset + t.offset) + ", " + str(t.bytes) + " bytes]";
}

// Every tensor's data must lie inside the file, and no two may share bytes.
Status checkTensorData(const std::vector<TensorInfo>& tensors, uint64_t dataOffset,
                       uint64_t fileSize) {
    const uint64_t available = fileSize > dataOffset ? fileSize - dataOffset : 0;
    for (const TensorInfo& t : tensors) {
        const std::string context = "tensor " + quotedName(t.name);
        if (t.offset > available)
            return invalid(context + ": data offset " + str(t.offset) +
                           " (from the data section at " + str(dataOffset) +
                           ") lies past the end of the file (" + str(fileSize) +
                           " bytes): the file is truncated or the offset is corrupt");
        if (t.bytes > available - t.offset)
            return invalid(context + " data " + placement(t, dataOffset) +
                           " runs past the end of the file (" + str(fileSize) +
                           " bytes): the file is truncated");
    }

    std::vector<const TensorInfo*> byOffset;
    for (const TensorInfo& t : tensors)
        if (t.bytes > 0) byOffset.push_back(&t);
    std::sort(byOffset.begin(), byOffset.end(),
              [](const TensorInfo* a, const TensorInfo* b) { return a->offset < b->offset; });
    const TensorInfo* reachesFurthest = nullptr;
    for (const TensorInfo* t : byOffset) {
        if (reachesFurthest) {
            const uint64_t end = reachesFurthest->offset + reachesFurthest->bytes;
            if (t->offset < end)
                return invalid("tensors " + quotedName(reachesFurthest->name) + " " +
                               placement(*reachesFurthest, dataOffset) + " and " +
                               quotedName(t->name) + " " + placement(*t, dataOffset) + " overlap");
        }
        if (!reachesFurthest ||
            t->offset + t->bytes > reachesFurthest->offset + reachesFurthest->bytes)
            reachesFurthest = t;
    }
    return Status::ok();
}

// The file descriptor is only needed until the mapping exists.
struct FileDescriptor {
    int fd;
    ~FileDescriptor() {
        if (fd >= 0) ::close(fd);
    }
};

std::string systemError(int error) {
    return std::generic_category().message(error);
}

} // namespace

// The file's bytes: either a read-only mapping or an owned, page-aligned copy.
struct GgufFile::Mapping {
    struct AlignedDelete {
        void operator()(uint8_t* p) const {
            ::operator delete[](p, std::align_val_t{kOwnedBufferAlignment});
        }
    };

    const uint8_t* bytes = nullptr;
    uint64_t size = 0;
    bool mapped = false;
    std::unique_ptr<uint8_t[], AlignedDelete> owned;

    Mapping() = default;
    Mapping(const Mapping&) = delete;
    Mapping& operator=(const Mapping&) = delete;
    ~Mapping() {
        if (mapped) ::munmap(const_cast<uint8_t*>(bytes), size);
    }
};

std::string_view valueTypeName(ValueType type) {
    switch (type) {
    case ValueType::UInt8:
        return "uint8";
    case ValueType::Int8:
        return "int8";
    case ValueType::UInt16:
        return "uint16";
    case ValueType::Int16:
        return "int16";
    case ValueType::UInt32:
        return "uint32";
    case ValueType::Int32:
        return "int32";
    case ValueType::Float32:
        return "float32";
    case ValueType::Bool:
        return "bool";
    case ValueType::String:
        return "string";
    case ValueType::Array:
        return "array";
    case ValueType::UInt64:
        return "uint64";
    case ValueType::Int64:
        return "int64";
    case ValueType::Float64:
        return "float64";
    }
    return "unknown";
}

bool Value::isInteger() const {
    return isSignedIntegerType(type) || isUnsignedIntegerType(type);
}

bool Value::isFloat() const {
    return type == ValueType::Float32 || type == ValueType::Float64;
}

std::string Value::toDisplayString(size_t maxItems) const {
    switch (type) {
    case ValueType::UInt8:
    case ValueType::UInt16:
    case ValueType::UInt32:
    case ValueType::UInt64:
        return std::to_string(u);
    case ValueType::Int8:
    case ValueType::Int16:
    case ValueType::Int32:
    case ValueType::Int64:
        return std::to_string(i);
    case ValueType::Float32:
    case ValueType::Float64:
        return formatFloat(f, type);
    case ValueType::Bool:
        return u ? "true" : "false";
    case ValueType::String:
        return escaped(s, '"', kDisplayStringBytes);
    case ValueType::Array: {
        std::string out = "[";
        const size_t shown = std::min(items.size(), maxItems);
        for (size_t k = 0; k < shown; ++k)
            out += (k ? ", " : "") + items[k].toDisplayString(maxItems);
        if (shown < items.size())
            out += (shown ? ", ... (" : "... (") + std::to_string(items.size()) + " items)";
        return out + "]";
    }
    }
    return "?";
}

// Multiplied in the order the reader checked for overflow.
int64_t TensorInfo::elementCount() const {
    return rowLength() * rowCount();
}

int64_t TensorInfo::rowCount() const {
    int64_t count = 1;
    for (size_t d = 1; d < ne.size(); ++d)
        count *= ne[d];
    return count;
}

std::string TensorInfo::shapeString() const {
    return shapeOf(ne);
}

GgufFile::GgufFile(GgufFile&&) noexcept = default;
GgufFile& GgufFile::operator=(GgufFile&&) noexcept = default;
GgufFile::~GgufFile() = default;

Result<GgufFile> GgufFile::open(const std::filesystem::path& path) {
    const std::string displayName = path.has_filename() ? path.filename().string() : path.string();
    const FileDescriptor file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (file.fd < 0) {
        const int error = errno;
        return Status(error == ENOENT ? ErrorCode::NotFound : ErrorCode::InvalidFile,
                      displayName + ": cannot open " + path.string() + ": " + systemError(error));
    }
    struct stat info {};
    if (::fstat(file.fd, &info) != 0)
        return Status(ErrorCode::InvalidFile,
                      displayName + ": cannot stat " + path.string() + ": " + systemError(errno));
    if (!S_ISREG(info.st_mode))
        return Status(ErrorCode::InvalidFile,
                      displayName + ": " + path.string() + " is not a regular file");

    auto mapping = std::make_unique<Mapping>();
    mapping->size = static_cast<uint64_t>(info.st_size);
    if (mapping->size > 0) { // mmap rejects empty ranges; the parser reports the empty file
        void* address = ::mmap(nullptr, mapping->size, PROT_READ, MAP_PRIVATE, file.fd, 0);
        if (address == MAP_FAILED)
            return Status(ErrorCode::InvalidFile, displayName + ": cannot map " + path.string() +
                                                      ": " + systemError(errno));
        mapping->bytes = static_cast<const uint8_t*>(address);
        mapping->mapped = true;
    }
    return parse(std::move(mapping), displayName);
}

Result<GgufFile> GgufFile::fromBytes(std::span<const uint8_t> bytes, std::string displayName) {
    auto mapping = std::make_unique<Mapping>();
    mapping->owned.reset(static_cast<uint8_t*>(
        ::operator new[](bytes.size(), std::align_val_t{kOwnedBufferAlignment})));
    if (!bytes.empty()) std::memcpy(mapping->owned.get(), bytes.data(), bytes.size());
    mapping->bytes = mapping->owned.get();
    mapping->size = bytes.size();
    return parse(std::move(mapping), std::move(displayName));
}

Result<GgufFile> GgufFile::parse(std::unique_ptr<Mapping> mapping, std::string displayName) {
    GgufFile file;
    file.displayName_ = std::move(displayName);
    file.size_ = mapping->size;
    file.mapping_ = std::move(mapping);
    if (Status status = file.parseContents(); !status.isOk())
        return status.withContext(file.displayName_);
    return file;
}

Status GgufFile::parseContents() {
    Cursor cursor(mapping_->bytes, size_);
    uint64_t tensorCount = 0;
    uint64_t metadataCount = 0;
    HIP_TRY(readHeader(cursor, size_, version_, tensorCount, metadataCount));
    HIP_TRY(MetadataReader(cursor).readAll(metadataCount, metadata_));
    HIP_TRY(readAlignment(metadata_, alignment_));

    for (uint64_t index = 0; index < tensorCount; ++index) {
        const uint64_t infoOffset = cursor.offset();
        TensorInfo tensor;
        HIP_TRY(readTensorInfo(cursor, index, alignment_, tensor));
        if (tensorIndex_.contains(tensor.name))
            return invalid("tensor " + quotedName(tensor.name) + ": duplicate name at offset " +
                           str(infoOffset) + " (each tensor name may appear only once)");
        tensorIndex_.emplace(tensor.name, tensors_.size());
        tensors_.push_back(std::move(tensor));
    }

    dataOffset_ = alignUp(cursor.offset(), alignment_);
    HIP_TRY(checkTensorData(tensors_, dataOffset_, size_));
    for (TensorInfo& t : tensors_)
        t.data = mapping_->bytes + dataOffset_ + t.offset;
    return Status::ok();
}

const Value* GgufFile::find(std::string_view key) const {
    const auto it = metadata_.find(key);
    return it == metadata_.end() ? nullptr : &it->second;
}

const TensorInfo* GgufFile::findTensor(std::string_view name) const {
    const auto it = tensorIndex_.find(name);
    return it == tensorIndex_.end() ? nullptr : &tensors_[it->second];
}

// ---- typed getters ---------------------------------------------------------------------------

namespace {

Status missingKey(const std::string& file, std::string_view key) {
    return {ErrorCode::NotFound, file + ": metadata key " + quotedName(key) + " is missing"};
}

Status wrongType(const std::string& file, std::string_view key, const Value& found,
                 std::string_view expected) {
    return invalid(file + ": metadata key " + quotedName(key) + " is " + typeDescription(found) +
                   " (" + found.toDisplayString(3) + "), expected " + std::string(expected));
}

std::optional<uint64_t> asUnsigned(const Value& v) {
    if (isUnsignedIntegerType(v.type)) return v.u;
    if (isSignedIntegerType(v.type) && v.i >= 0) return static_cast<uint64_t>(v.i);
    return std::nullopt;
}

std::optional<int64_t> asSigned(const Value& v) {
    if (isSignedIntegerType(v.type)) return v.i;
    if (isUnsignedIntegerType(v.type) &&
        v.u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return static_cast<int64_t>(v.u);
    return std::nullopt;
}

} // namespace

Result<std::string> GgufFile::getString(std::string_view key) const {
    const Value* v = find(key);
    if (!v) return missingKey(displayName_, key);
    if (v->type != ValueType::String) return wrongType(displayName_, key, *v, "string");
    return v->s;
}

Result<std::string> GgufFile::getString(std::string_view key, std::string fallback) const {
    return contains(key) ? getString(key) : Result<std::string>(std::move(fallback));
}

Result<uint64_t> GgufFile::getUInt(std::string_view key) const {
    const Value* v = find(key);
    if (!v) return missingKey(displayName_, key);
    if (!v->isInteger()) return wrongType(displayName_, key, *v, "an unsigned integer");
    const std::optional<uint64_t> value = asUnsigned(*v);
    if (!value)
        return invalid(displayName_ + ": metadata key " + quotedName(key) + " is " +
                       v->toDisplayString() + ", expected a non-negative integer");
    return *value;
}

Result<uint64_t> GgufFile::getUInt(std::string_view key, uint64_t fallback) const {
    return contains(key) ? getUInt(key) : Result<uint64_t>(fallback);
}

Result<int64_t> GgufFile::getInt(std::string_view key) const {
    const Value* v = find(key);
    if (!v) return missingKey(displayName_, key);
    if (!v->isInteger()) return wrongType(displayName_, key, *v, "an integer");
    const std::optional<int64_t> value = asSigned(*v);
    if (!value)
        return invalid(displayName_ + ": metadata key " + quotedName(key) + " is " +
                       v->toDisplayString() + ", too large for a signed 64-bit integer");
    return *value;
}

Result<double> GgufFile::getFloat(std::string_view key) const {
    const Value* v = find(key);
    if (!v) return missingKey(displayName_, key);
    if (v->isFloat()) return v->f;
    if (isSignedIntegerType(v->type)) return static_cast<double>(v->i);
    if (isUnsignedIntegerType(v->type)) return static_cast<double>(v->u);
    return wrongType(displayName_, key, *v, "a number");
}

Result<double> GgufFile::getFloat(std::string_view key, double fallback) const {
    return contains(key) ? getFloat(key) : Result<double>(fallback);
}

Result<bool> GgufFile::getBool(std::string_view key) const {
    const Value* v = find(key);
    if (!v) return missingKey(displayName_, key);
    if (v->type != ValueType::Bool) return wrongType(displayName_, key, *v, "bool");
    return v->u != 0;
}

Result<bool> GgufFile::getBool(std::string_view key, bool fallback) const {
    return contains(key) ? getBool(key) : Result<bool>(fallback);
}

Result<std::vector<std::string>> GgufFile::getStringArray(std::string_view key) const {
    const Value* v = find(key);
    if (!v) return missingKey(displayName_, key);
    if (v->type != ValueType::Array || v->elementType != ValueType::String)
        return wrongType(displayName_, key, *v, "array of string");
    std::vector<std::string> out;
    out.reserve(v->items.size());
    for (const Value& item : v->items)
        out.push_back(item.s);
    return out;
}

Result<std::vector<float>> GgufFile::getFloatArray(std::string_view key) const {
    const Value* v = find(key);
    if (!v) return missingKey(displayName_, key);
    if (v->type != ValueType::Array ||
        (v->elementType != ValueType::Float32 && v->elementType != ValueType::Float64))
        return wrongType(displayName_, key, *v, "array of float32 or float64");
    std::vector<float> out;
    out.reserve(v->items.size());
    for (const Value& item : v->items)
        out.push_back(static_cast<float>(item.f));
    return out;
}

Result<std::vector<int64_t>> GgufFile::getIntArray(std::string_view key) const {
    const Value* v = find(key);
    if (!v) return missingKey(displayName_, key);
    if (v->type != ValueType::Array ||
        !(isSignedIntegerType(v->elementType) || isUnsignedIntegerType(v->elementType)))
        return wrongType(displayName_, key, *v, "array of integers");
    std::vector<int64_t> out;
    out.reserve(v->items.size());
    for (size_t k = 0; k < v->items.size(); ++k) {
        const std::optional<int64_t> value = asSigned(v->items[k]);
        if (!value)
            return invalid(displayName_ + ": metadata key " + quotedName(key) + " item " + str(k) +
                           " is " + v->items[k].toDisplayString() +
                           ", too large for a signed 64-bit integer");
        out.push_back(*value);
    }
    return out;
}

} // namespace hip::gguf
