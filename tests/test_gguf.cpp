// The GGUF reader and writer: round trips through real bytes, the real default model, and damaged
// or hostile files, every one of which must be rejected with a message naming the problem.

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>

using hip::ErrorCode;
using hip::quant::GgmlType;
using namespace hip::gguf;

Q_DECLARE_METATYPE(hip::gguf::Value)

namespace {

using Bytes = std::vector<uint8_t>;

constexpr uint64_t kTwoTo62 = uint64_t{1} << 62;

// ---- building values -----------------------------------------------------------------------

Value unsignedValue(ValueType type, uint64_t u) {
    Value v;
    v.type = type;
    v.u = u;
    return v;
}

Value signedValue(ValueType type, int64_t i) {
    Value v;
    v.type = type;
    v.i = i;
    return v;
}

Value floatValue(ValueType type, double f) {
    Value v;
    v.type = type;
    v.f = f;
    return v;
}

Value stringValue(std::string s) {
    Value v;
    v.type = ValueType::String;
    v.s = std::move(s);
    return v;
}

Value arrayValue(ValueType elementType, std::vector<Value> items) {
    Value v;
    v.type = ValueType::Array;
    v.elementType = elementType;
    v.items = std::move(items);
    return v;
}

// Compares the fields that `type` uses, recursively for arrays.
bool sameValue(const Value& a, const Value& b) {
    if (a.type != b.type) return false;
    switch (a.type) {
    case ValueType::UInt8:
    case ValueType::UInt16:
    case ValueType::UInt32:
    case ValueType::UInt64:
    case ValueType::Bool:
        return a.u == b.u;
    case ValueType::Int8:
    case ValueType::Int16:
    case ValueType::Int32:
    case ValueType::Int64:
        return a.i == b.i;
    case ValueType::Float32:
    case ValueType::Float64:
        return a.f == b.f;
    case ValueType::String:
        return a.s == b.s;
    case ValueType::Array:
        return a.elementType == b.elementType && a.items.size() == b.items.size() &&
               std::equal(a.items.begin(), a.items.end(), b.items.begin(), sameValue);
    }
    return false;
}

// Every value type, with the extremes of each range, and arrays: nested, empty, of strings.
std::vector<std::pair<std::string, Value>> everyValueKind() {
    using T = ValueType;
    return {
        {"kind.uint8", unsignedValue(T::UInt8, 255)},
        {"kind.int8", signedValue(T::Int8, -128)},
        {"kind.uint16", unsignedValue(T::UInt16, 65535)},
        {"kind.int16", signedValue(T::Int16, -32768)},
        {"kind.uint32", unsignedValue(T::UInt32, std::numeric_limits<uint32_t>::max())},
        {"kind.int32", signedValue(T::Int32, std::numeric_limits<int32_t>::min())},
        {"kind.float32", floatValue(T::Float32, double{3.14159f})},
        {"kind.bool_true", unsignedValue(T::Bool, 1)},
        {"kind.bool_false", unsignedValue(T::Bool, 0)},
        {"kind.string", stringValue("h\xC3\xA9llo, \"world\"\n\t")},
        {"kind.string_with_nul", stringValue(std::string("a\0b", 3))},
        {"kind.string_empty", stringValue("")},
        {"kind.uint64", unsignedValue(T::UInt64, std::numeric_limits<uint64_t>::max())},
        {"kind.int64", signedValue(T::Int64, std::numeric_limits<int64_t>::min())},
        {"kind.float64", floatValue(T::Float64, 0.1)},
        {"kind.float64_inf", floatValue(T::Float64, -std::numeric_limits<double>::infinity())},
        {"kind.array_uint8",
         arrayValue(T::UInt8, {unsignedValue(T::UInt8, 0), unsignedValue(T::UInt8, 255)})},
        {"kind.array_int16", arrayValue(T::Int16, {signedValue(T::Int16, -1)})},
        {"kind.array_uint64", arrayValue(T::UInt64, {unsignedValue(T::UInt64, 1ull << 40)})},
        {"kind.array_int64", arrayValue(T::Int64, {signedValue(T::Int64, -(1ll << 40))})},
        {"kind.array_float32",
         arrayValue(T::Float32, {floatValue(T::Float32, -0.5), floatValue(T::Float32, 1e-5f)})},
        {"kind.array_float64", arrayValue(T::Float64, {floatValue(T::Float64, 1e300)})},
        {"kind.array_bool",
         arrayValue(T::Bool, {unsignedValue(T::Bool, 1), unsignedValue(T::Bool, 0)})},
        {"kind.array_string", arrayValue(T::String, {stringValue("a"), stringValue(""),
                                                     stringValue("\xC3\xBC\xC3\xB1")})},
        {"kind.array_empty", arrayValue(T::Int32, {})},
        {"kind.array_nested",
         arrayValue(T::Array,
                    {arrayValue(T::Int32, {signedValue(T::Int32, 1), signedValue(T::Int32, 2)}),
                     arrayValue(T::Int32, {signedValue(T::Int32, 3)}), arrayValue(T::Int32, {})})},
        {"kind.array_nested_strings",
         arrayValue(T::Array, {arrayValue(T::String, {stringValue("x"), stringValue("yz")})})},
    };
}

Bytes randomBytes(size_t count, uint32_t seed) {
    std::mt19937 random(seed);
    Bytes bytes(count);
    for (uint8_t& b : bytes)
        b = static_cast<uint8_t>(random());
    return bytes;
}

uint64_t tensorSize(GgmlType type, const std::vector<int64_t>& ne) {
    int64_t rows = 1;
    for (size_t d = 1; d < ne.size(); ++d)
        rows *= ne[d];
    return *hip::quant::rowBytes(type, ne[0]) * static_cast<uint64_t>(rows);
}

uint64_t alignUp(uint64_t offset, uint64_t alignment) {
    return (offset + alignment - 1) / alignment * alignment;
}

// ---- locating and patching fields, to damage images on purpose -----------------------------

// Position of `text` in `image`; fails the test (returns npos) unless it occurs exactly once.
size_t findUnique(const Bytes& image, std::string_view text) {
    const auto first = std::search(image.begin(), image.end(), text.begin(), text.end());
    if (first == image.end()) return std::string::npos;
    if (std::search(first + 1, image.end(), text.begin(), text.end()) != image.end())
        return std::string::npos;
    return static_cast<size_t>(first - image.begin());
}

template <typename T> void patch(Bytes& image, size_t at, T value) {
    Q_ASSERT(at != std::string::npos && at + sizeof value <= image.size());
    std::memcpy(image.data() + at, &value, sizeof value);
}

template <typename T> T peek(const Bytes& image, size_t at) {
    Q_ASSERT(at != std::string::npos && at + sizeof(T) <= image.size());
    T value;
    std::memcpy(&value, image.data() + at, sizeof value);
    return value;
}

// Where a key's value type tag lies (the value follows it), found through the key's text.
size_t valueTypeField(const Bytes& image, std::string_view key) {
    return findUnique(image, key) + key.size();
}

// Where the fields of a tensor info lie, found through the tensor's name.
struct TensorFields {
    size_t nameLength;
    size_t nDims;
    size_t ne; // ne[0]; ne[d] is at ne + 8 * d
    size_t type;
    size_t offset;
};

TensorFields tensorFields(const Bytes& image, std::string_view name) {
    const size_t nameAt = findUnique(image, name);
    const size_t nDims = nameAt + name.size();
    const size_t type = nDims + 4 + 8 * peek<uint32_t>(image, nDims);
    return {nameAt - 8, nDims, nDims + 4, type, type + 4};
}

// A small valid file whose keys and tensor names each occur once in its bytes.
GgufWriter sampleWriter(uint32_t version = 3, uint32_t alignment = 32) {
    GgufWriter writer(version, alignment);
    writer.setString("general.architecture", "llama");
    writer.setString("sample.name", "sample model");
    writer.setUInt32("sample.count", 7);
    writer.setBool("sample.flag", true);
    writer.setInt32Array("sample.ids", {5, -6, 7});
    writer.setStringArray("sample.words", {"alpha", "beta"});
    writer.setFloat32("sample.scale", 0.25f);
    writer.addTensor("tensor.first", {8, 4}, GgmlType::F32,
                     randomBytes(tensorSize(GgmlType::F32, {8, 4}), 1));
    writer.addTensor("tensor.second", {64, 2}, GgmlType::Q4_0,
                     randomBytes(tensorSize(GgmlType::Q4_0, {64, 2}), 2));
    writer.addTensor("tensor.third", {32, 3}, GgmlType::Q8_0,
                     randomBytes(tensorSize(GgmlType::Q8_0, {32, 3}), 3));
    return writer;
}

const char* const kDisplayName = "damaged.gguf";

// Requires `image` to be rejected as InvalidFile with a message that starts with the display name
// and contains every fragment.
void verifyRejected(const Bytes& image, std::initializer_list<std::string_view> fragments) {
    const auto result = GgufFile::fromBytes(image, kDisplayName);
    QVERIFY2(!result.isOk(), "the damaged image was accepted");
    const std::string& message = result.message();
    QVERIFY2(result.status().code() == ErrorCode::InvalidFile, message.c_str());
    QVERIFY2(message.starts_with(std::string(kDisplayName) + ": "), message.c_str());
    for (std::string_view fragment : fragments)
        QVERIFY2(message.find(fragment) != std::string::npos,
                 qPrintable(QStringLiteral("\"%1\" missing from: %2")
                                .arg(QString::fromUtf8(fragment.data(), qsizetype(fragment.size())),
                                     QString::fromStdString(message))));
}

#define VERIFY_REJECTED(image, ...)                                                                \
    do {                                                                                           \
        verifyRejected(image, {__VA_ARGS__});                                                      \
        if (QTest::currentTestFailed()) return;                                                    \
    } while (0)

#define VERIFY_OK(result) QVERIFY2((result).isOk(), (result).message().c_str())

} // namespace

class TestGguf : public QObject {
    Q_OBJECT

private slots:
    void ggmlTypeTable();
    void rowBytesChecksBlocksAndOverflow();

    void roundTrip_data();
    void roundTrip();
    void writerKeepsInsertionOrderAndReplacesKeys();
    void emptyFileWithoutTensors();
    void zeroSizedTensor();
    void typedGetters();
    void displayStrings();
    void defaultModel();

    void truncatedAtEveryByte();
    void randomCorruptionNeverCrashes();
    void badMagic();
    void unsupportedVersions();
    void impossibleCounts();
    void hugeStringLength();
    void hugeArrayCount();
    void tooManyMetadataValues();
    void unknownValueTypes();
    void boolOtherThanZeroOrOne();
    void emptyKey();
    void duplicateKey();
    void badAlignment_data();
    void badAlignment();
    void arraysNestedTooDeep();
    void badDimensionCount();
    void negativeDimension();
    void elementCountOverflow();
    void byteSizeOverflow();
    void unknownGgmlType();
    void rowNotMultipleOfBlockSize();
    void misalignedTensorOffset();
    void tensorDataPastEndOfFile();
    void overlappingTensors();
    void duplicateTensorName();
    void badTensorNames();
    void openErrors();
};

// ---- types ------------------------------------------------------------------------------------

void TestGguf::ggmlTypeTable() {
    struct Expected {
        uint32_t raw;
        const char* name;
        int64_t blockSize;
        int64_t blockBytes;
        bool dequantizable;
    };
    const Expected expected[] = {
        {0, "F32", 1, 4, true},          {1, "F16", 1, 2, true},
        {2, "Q4_0", 32, 18, true},       {3, "Q4_1", 32, 20, true},
        {6, "Q5_0", 32, 22, true},       {7, "Q5_1", 32, 24, true},
        {8, "Q8_0", 32, 34, true},       {9, "Q8_1", 32, 36, false},
        {10, "Q2_K", 256, 84, false},    {11, "Q3_K", 256, 110, false},
        {12, "Q4_K", 256, 144, true},    {13, "Q5_K", 256, 176, true},
        {14, "Q6_K", 256, 210, true},    {15, "Q8_K", 256, 292, false},
        {16, "IQ2_XXS", 256, 66, false}, {17, "IQ2_XS", 256, 74, false},
        {18, "IQ3_XXS", 256, 98, false}, {19, "IQ1_S", 256, 50, false},
        {20, "IQ4_NL", 32, 18, false},   {21, "IQ3_S", 256, 110, false},
        {22, "IQ2_S", 256, 82, false},   {23, "IQ4_XS", 256, 136, false},
        {24, "I8", 1, 1, false},         {25, "I16", 1, 2, false},
        {26, "I32", 1, 4, false},        {27, "I64", 1, 8, false},
        {28, "F64", 1, 8, false},        {29, "IQ1_M", 256, 56, false},
        {30, "BF16", 1, 2, true},        {34, "TQ1_0", 256, 54, false},
        {35, "TQ2_0", 256, 66, false},   {39, "MXFP4", 32, 17, false},
    };
    for (const Expected& e : expected) {
        const auto traits = hip::quant::typeTraits(e.raw);
        QVERIFY2(traits.has_value(), e.name);
        QCOMPARE(static_cast<uint32_t>(traits->type), e.raw);
        QCOMPARE(traits->name, std::string_view(e.name));
        QCOMPARE(traits->blockSize, e.blockSize);
        QCOMPARE(traits->blockBytes, e.blockBytes);
        QCOMPARE(traits->dequantizable, e.dequantizable);
        QCOMPARE(hip::quant::traits(traits->type).blockBytes, e.blockBytes);
        QCOMPARE(hip::quant::typeName(traits->type), std::string_view(e.name));
    }
    for (uint32_t removedOrUnknown : {4u, 5u, 31u, 32u, 33u, 36u, 37u, 38u, 40u, 1000u, ~0u})
        QVERIFY(!hip::quant::typeTraits(removedOrUnknown).has_value());
}

void TestGguf::rowBytesChecksBlocksAndOverflow() {
    using hip::quant::rowBytes;
    QCOMPARE(rowBytes(GgmlType::F32, 576), std::optional<uint64_t>(2304));
    QCOMPARE(rowBytes(GgmlType::Q8_0, 576), std::optional<uint64_t>(18 * 34));
    QCOMPARE(rowBytes(GgmlType::Q4_K, 512), std::optional<uint64_t>(288));
    QCOMPARE(rowBytes(GgmlType::Q4_K, 0), std::optional<uint64_t>(0));
    QVERIFY(!rowBytes(GgmlType::Q4_K, 576).has_value()); // not whole blocks
    QVERIFY(!rowBytes(GgmlType::Q4_0, 33).has_value());
    QVERIFY(!rowBytes(GgmlType::F32, -1).has_value());
    QVERIFY(!rowBytes(GgmlType::F64, std::numeric_limits<int64_t>::max()).has_value());
}

// ---- valid files ------------------------------------------------------------------------------

void TestGguf::roundTrip_data() {
    QTest::addColumn<uint32_t>("version");
    QTest::addColumn<uint32_t>("alignment");
    QTest::newRow("v2, alignment 32") << 2u << 32u;
    QTest::newRow("v3, alignment 32") << 3u << 32u;
    QTest::newRow("v2, alignment 64") << 2u << 64u;
    QTest::newRow("v3, alignment 64") << 3u << 64u;
    QTest::newRow("v3, alignment 4096") << 3u << 4096u;
}

void TestGguf::roundTrip() {
    QFETCH(uint32_t, version);
    QFETCH(uint32_t, alignment);

    GgufWriter writer(version, alignment);
    const auto values = everyValueKind();
    for (const auto& [key, value] : values)
        writer.setValue(key, value);
    writer.setUInt32("setter.uint32", 4000000000u);
    writer.setUInt64("setter.uint64", 1ull << 50);
    writer.setInt32("setter.int32", -42);
    writer.setFloat32("setter.float32", 1e-5f);
    writer.setBool("setter.bool", true);
    writer.setString("setter.string", "text");
    writer.setStringArray("setter.strings", {"one", "two", "three"});
    writer.setFloat32Array("setter.floats", {1.5f, -2.25f});
    writer.setInt32Array("setter.ints", {-1, 0, 1});

    struct Spec {
        std::string name;
        std::vector<int64_t> ne;
        GgmlType type;
    };
    const std::vector<Spec> specs = {
        {"t.f32", {16, 3}, GgmlType::F32},         {"t.f16", {8, 5}, GgmlType::F16},
        {"t.q4_0", {64, 2}, GgmlType::Q4_0},       {"t.q8_0", {96}, GgmlType::Q8_0},
        {"t.q4_k", {512, 2}, GgmlType::Q4_K},      {"t.f32_4d", {2, 3, 4, 5}, GgmlType::F32},
        {"t.q8_0_3d", {32, 1, 3}, GgmlType::Q8_0},
    };
    std::vector<Bytes> contents;
    for (size_t k = 0; k < specs.size(); ++k) {
        contents.push_back(randomBytes(tensorSize(specs[k].type, specs[k].ne), uint32_t(k + 10)));
        writer.addTensor(specs[k].name, specs[k].ne, specs[k].type, contents.back());
    }

    const Bytes image = writer.toBytes();
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::filesystem::path path = dir.filePath("round trip.gguf").toStdString();
    const hip::Status written = writer.writeFile(path);
    QVERIFY2(written.isOk(), written.message().c_str());
    QCOMPARE(std::filesystem::file_size(path), image.size());

    auto fromMemory = GgufFile::fromBytes(image, "memory.gguf");
    VERIFY_OK(fromMemory);
    auto fromFile = GgufFile::open(path);
    VERIFY_OK(fromFile);
    QCOMPARE(fromFile->displayName(), std::string("round trip.gguf"));

    for (const GgufFile* file : {&*fromMemory, &*fromFile}) {
        QCOMPARE(file->version(), version);
        QCOMPARE(file->alignment(), alignment);
        QCOMPARE(file->fileSize(), uint64_t(image.size()));
        // The writer records a non-default alignment itself.
        QCOMPARE(file->contains("general.alignment"), alignment != kDefaultAlignment);
        QCOMPARE(file->metadata().size(), values.size() + 9 + (alignment != 32 ? 1 : 0));
        for (const auto& [key, value] : values) {
            const Value* read = file->find(key);
            QVERIFY2(read, key.c_str());
            QVERIFY2(
                sameValue(*read, value),
                (key + ": " + read->toDisplayString() + " != " + value.toDisplayString()).c_str());
        }
        QCOMPARE(*file->getUInt("setter.uint32"), 4000000000ull);
        QCOMPARE(*file->getUInt("setter.uint64"), 1ull << 50);
        QCOMPARE(*file->getInt("setter.int32"), -42ll);
        QCOMPARE(*file->getFloat("setter.float32"), double{1e-5f});
        QCOMPARE(*file->getBool("setter.bool"), true);
        QCOMPARE(*file->getString("setter.string"), std::string("text"));
        QCOMPARE(*file->getStringArray("setter.strings"),
                 (std::vector<std::string>{"one", "two", "three"}));
        QCOMPARE(*file->getFloatArray("setter.floats"), (std::vector<float>{1.5f, -2.25f}));
        QCOMPARE(*file->getIntArray("setter.ints"), (std::vector<int64_t>{-1, 0, 1}));

        QCOMPARE(file->dataOffset() % alignment, 0u);
        QCOMPARE(file->tensors().size(), specs.size());
        uint64_t expectedOffset = 0;
        for (size_t k = 0; k < specs.size(); ++k) {
            const TensorInfo& t = file->tensors()[k];
            QCOMPARE(t.name, specs[k].name);
            QCOMPARE(file->findTensor(specs[k].name), &t);
            QCOMPARE(t.ne, specs[k].ne);
            QCOMPARE(t.type, specs[k].type);
            QCOMPARE(t.bytes, uint64_t(contents[k].size()));
            QCOMPARE(t.offset, expectedOffset); // packed, each start aligned
            expectedOffset = alignUp(t.offset + t.bytes, alignment);
            // Both a mapping and the owned copy start page-aligned, so the address is aligned.
            QCOMPARE(reinterpret_cast<uintptr_t>(t.data) % alignment, 0u);
            QVERIFY(std::memcmp(t.data, image.data() + file->dataOffset() + t.offset, t.bytes) ==
                    0);
            QVERIFY2(std::memcmp(t.data, contents[k].data(), t.bytes) == 0, t.name.c_str());
        }
        QCOMPARE(file->dataOffset() + expectedOffset, uint64_t(image.size()));
        QVERIFY(!file->findTensor("t.missing"));

        const TensorInfo& cube = *file->findTensor("t.f32_4d");
        QCOMPARE(cube.elementCount(), 120);
        QCOMPARE(cube.rowLength(), 2);
        QCOMPARE(cube.rowCount(), 60);
        QCOMPARE(cube.shapeString(), std::string("[2, 3, 4, 5]"));
    }
}

void TestGguf::writerKeepsInsertionOrderAndReplacesKeys() {
    GgufWriter writer(3, 64);
    writer.setUInt32("order.zebra", 1);
    writer.setUInt32("order.apple", 2);
    writer.setUInt32("order.mango", 3);
    writer.setUInt32("order.apple", 20);        // replaces in place
    writer.setUInt32("general.alignment", 128); // the caller's word wins over the constructor's
    const Bytes image = writer.toBytes();

    QCOMPARE(peek<uint64_t>(image, 16), 4u); // alignment + three keys
    const size_t zebra = findUnique(image, "order.zebra");
    const size_t apple = findUnique(image, "order.apple");
    const size_t mango = findUnique(image, "order.mango");
    QVERIFY(findUnique(image, "general.alignment") < zebra);
    QVERIFY(zebra < apple && apple < mango);

    auto file = GgufFile::fromBytes(image, "order.gguf");
    VERIFY_OK(file);
    QCOMPARE(*file->getUInt("order.apple"), 20u);
    QCOMPARE(file->alignment(), 128u);
}

void TestGguf::emptyFileWithoutTensors() {
    // Like ggml, the writer pads the header to the alignment even when no data follows; readers
    // must also accept the header alone.
    const Bytes image = GgufWriter(2).toBytes();
    QCOMPARE(image.size(), size_t(32));
    const Bytes headerOnly(image.begin(), image.begin() + 24);
    for (const Bytes* bytes : {&image, &headerOnly}) {
        auto file = GgufFile::fromBytes(*bytes, "empty.gguf");
        VERIFY_OK(file);
        QCOMPARE(file->version(), 2u);
        QCOMPARE(file->alignment(), kDefaultAlignment);
        QCOMPARE(file->dataOffset(), 32u);
        QVERIFY(file->metadata().empty());
        QVERIFY(file->tensors().empty());
    }
}

void TestGguf::zeroSizedTensor() {
    GgufWriter writer;
    writer.addTensor("empty.rows", {0, 4}, GgmlType::Q4_0, {});
    writer.addTensor("empty.none", {16, 0}, GgmlType::F32, {});
    // Outer dimensions whose partial product overflows before the final zero.
    writer.addTensor("empty.wide", {int64_t(1) << 60, 16, 0}, GgmlType::Q8_0, {});
    writer.addTensor("after", {4}, GgmlType::F32, randomBytes(16, 5));
    auto file = GgufFile::fromBytes(writer.toBytes(), "zero.gguf");
    VERIFY_OK(file);
    const TensorInfo& rows = *file->findTensor("empty.rows");
    QCOMPARE(rows.bytes, 0u);
    QCOMPARE(rows.elementCount(), 0);
    QCOMPARE(rows.rowCount(), 4);
    QCOMPARE(file->findTensor("empty.none")->rowCount(), 0);
    QCOMPARE(file->findTensor("empty.wide")->elementCount(), 0);
    QCOMPARE(file->findTensor("empty.wide")->bytes, 0u);
    // Zero-byte tensors share an offset with the next tensor without overlapping it.
    QCOMPARE(file->findTensor("after")->offset, 0u);
}

void TestGguf::typedGetters() {
    GgufWriter writer;
    writer.setValue("u8", unsignedValue(ValueType::UInt8, 200));
    writer.setValue("i16.positive", signedValue(ValueType::Int16, 300));
    writer.setInt32("i32.negative", -5);
    writer.setUInt64("u64.max", std::numeric_limits<uint64_t>::max());
    writer.setUInt32("u32", 42);
    writer.setValue("f64", floatValue(ValueType::Float64, 2.5));
    writer.setBool("flag", false);
    writer.setString("text", "hello");
    writer.setInt32Array("ints", {1, 2});
    writer.setValue("u8s", arrayValue(ValueType::UInt8, {unsignedValue(ValueType::UInt8, 9)}));
    writer.setValue("u64s",
                    arrayValue(ValueType::UInt64, {unsignedValue(ValueType::UInt64, ~0ull)}));
    writer.setValue("f64s", arrayValue(ValueType::Float64, {floatValue(ValueType::Float64, 0.5)}));
    writer.setStringArray("strings", {"a"});
    auto loaded = GgufFile::fromBytes(writer.toBytes(), "getters.gguf");
    VERIFY_OK(loaded);
    const GgufFile& file = *loaded;

    // Integer getters take any integer type whose value fits.
    QCOMPARE(*file.getUInt("u8"), 200u);
    QCOMPARE(*file.getUInt("i16.positive"), 300u);
    QCOMPARE(*file.getInt("u32"), 42);
    QCOMPARE(*file.getInt("i32.negative"), -5);
    QCOMPARE(*file.getUInt("u64.max"), std::numeric_limits<uint64_t>::max());
    QCOMPARE(*file.getFloat("f64"), 2.5);
    QCOMPARE(*file.getFloat("i32.negative"), -5.0);
    QCOMPARE(*file.getBool("flag"), false);
    QCOMPARE(*file.getIntArray("u8s"), std::vector<int64_t>{9});
    QCOMPARE(*file.getFloatArray("f64s"), std::vector<float>{0.5f});

    const auto negative = file.getUInt("i32.negative");
    QVERIFY(!negative.isOk());
    QCOMPARE(negative.status().code(), ErrorCode::InvalidFile);
    QVERIFY2(negative.message().find("'i32.negative' is -5, expected a non-negative integer") !=
                 std::string::npos,
             negative.message().c_str());
    const auto tooLarge = file.getInt("u64.max");
    QVERIFY(!tooLarge.isOk());
    QVERIFY2(tooLarge.message().find("18446744073709551615") != std::string::npos,
             tooLarge.message().c_str());
    const auto itemTooLarge = file.getIntArray("u64s");
    QVERIFY(!itemTooLarge.isOk());
    QVERIFY2(itemTooLarge.message().find("item 0") != std::string::npos,
             itemTooLarge.message().c_str());

    // Wrong types name the key, the type found and the type expected.
    const auto stringOfUInt = file.getString("u32");
    QVERIFY(!stringOfUInt.isOk());
    QCOMPARE(stringOfUInt.status().code(), ErrorCode::InvalidFile);
    QCOMPARE(stringOfUInt.message(),
             std::string("getters.gguf: metadata key 'u32' is uint32 (42), expected string"));
    const auto uintOfString = file.getUInt("text");
    QVERIFY(!uintOfString.isOk());
    QVERIFY2(uintOfString.message().find("'text' is string (\"hello\"), expected an unsigned") !=
                 std::string::npos,
             uintOfString.message().c_str());
    const auto stringsOfInts = file.getStringArray("ints");
    QVERIFY(!stringsOfInts.isOk());
    QVERIFY2(stringsOfInts.message().find("is array of int32 ([1, 2]), expected array of string") !=
                 std::string::npos,
             stringsOfInts.message().c_str());
    QVERIFY(!file.getFloatArray("ints").isOk());
    QVERIFY(!file.getIntArray("strings").isOk());
    QVERIFY(!file.getBool("u8").isOk());
    QVERIFY(!file.getFloat("text").isOk());
    QVERIFY(!file.getUInt("flag").isOk()); // a bool is not an integer

    // Missing keys are NotFound, unless a fallback is given; a fallback never hides a wrong type.
    const auto missing = file.getString("no.such.key");
    QCOMPARE(missing.status().code(), ErrorCode::NotFound);
    QCOMPARE(missing.message(), std::string("getters.gguf: metadata key 'no.such.key' is missing"));
    QCOMPARE(file.getIntArray("no.such.key").status().code(), ErrorCode::NotFound);
    QCOMPARE(*file.getString("no.such.key", "fallback"), std::string("fallback"));
    QCOMPARE(*file.getUInt("no.such.key", 7), 7u);
    QCOMPARE(*file.getFloat("no.such.key", 0.5), 0.5);
    QCOMPARE(*file.getBool("no.such.key", true), true);
    QCOMPARE(*file.getUInt("u32", 7), 42u);
    QCOMPARE(file.getString("u32", "fallback").status().code(), ErrorCode::InvalidFile);
}

void TestGguf::displayStrings() {
    QCOMPARE(unsignedValue(ValueType::UInt32, 42).toDisplayString(), std::string("42"));
    QCOMPARE(signedValue(ValueType::Int64, -7).toDisplayString(), std::string("-7"));
    QCOMPARE(floatValue(ValueType::Float32, double{1e-5f}).toDisplayString(), std::string("1e-05"));
    QCOMPARE(floatValue(ValueType::Float64, 0.1).toDisplayString(), std::string("0.1"));
    QCOMPARE(unsignedValue(ValueType::Bool, 1).toDisplayString(), std::string("true"));
    QCOMPARE(stringValue("say \"hi\"\n").toDisplayString(), std::string("\"say \\\"hi\\\"\\n\""));

    const std::string longText(200, 'x');
    QCOMPARE(stringValue(longText).toDisplayString(), "\"" + std::string(80, 'x') + "...\"");
    // Truncation never splits a UTF-8 sequence: 79 ASCII bytes, then a two-byte character.
    const std::string utf8 = std::string(79, 'a') + "\xC3\xA9" + std::string(10, 'b');
    QCOMPARE(stringValue(utf8).toDisplayString(), "\"" + std::string(79, 'a') + "...\"");

    std::vector<Value> ids;
    for (int k = 0; k < 10; ++k)
        ids.push_back(signedValue(ValueType::Int32, k));
    const Value array = arrayValue(ValueType::Int32, ids);
    QCOMPARE(array.toDisplayString(3), std::string("[0, 1, 2, ... (10 items)]"));
    QCOMPARE(array.toDisplayString(10), std::string("[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"));
    QCOMPARE(array.toDisplayString(0), std::string("[... (10 items)]"));
    QCOMPARE(arrayValue(ValueType::String, {}).toDisplayString(), std::string("[]"));
    const Value nested = arrayValue(
        ValueType::Array, {arrayValue(ValueType::String, {stringValue("a"), stringValue("b")})});
    QCOMPARE(nested.toDisplayString(), std::string("[[\"a\", \"b\"]]"));
}

void TestGguf::defaultModel() {
    HIPTEST_REQUIRE_DEFAULT_MODEL();
    auto loaded = GgufFile::open(hiptest::defaultModelPath());
    VERIFY_OK(loaded);
    const GgufFile& file = *loaded;

    QCOMPARE(file.version(), 3u);
    QCOMPARE(file.alignment(), 32u);
    QCOMPARE(file.dataOffset(), 1785664u);
    QCOMPARE(file.metadata().size(), size_t(33));
    QCOMPARE(*file.getString("general.architecture"), std::string("llama"));
    QCOMPARE(*file.getUInt("llama.block_count"), 30u);
    QCOMPARE(*file.getUInt("llama.embedding_length"), 576u);
    QCOMPARE(*file.getUInt("llama.attention.head_count_kv"), 3u);
    QCOMPARE(*file.getFloat("llama.rope.freq_base"), 100000.0);
    QCOMPARE(float(*file.getFloat("llama.attention.layer_norm_rms_epsilon")), 1e-5f);
    QCOMPARE(*file.getBool("tokenizer.ggml.add_bos_token"), false);
    QCOMPARE(*file.getString("tokenizer.ggml.model"), std::string("gpt2"));
    QVERIFY(file.getString("tokenizer.chat_template")->find("<|im_start|>") != std::string::npos);
    QCOMPARE(file.find("general.languages")->toDisplayString(), std::string("[\"en\"]"));

    const auto tokens = file.getStringArray("tokenizer.ggml.tokens");
    VERIFY_OK(tokens);
    QCOMPARE(tokens->size(), size_t(49152));
    QCOMPARE(tokens->front(), std::string("<|endoftext|>"));
    QCOMPARE((*tokens)[1], std::string("<|im_start|>"));
    const auto merges = file.getStringArray("tokenizer.ggml.merges");
    VERIFY_OK(merges);
    QCOMPARE(merges->size(), size_t(48900));
    QCOMPARE(merges->front(), std::string("\xC4\xA0 t")); // "Ġ t"
    QCOMPARE(file.getIntArray("tokenizer.ggml.token_type")->size(), size_t(49152));

    QCOMPARE(file.tensors().size(), size_t(272));
    const TensorInfo* embedding = file.findTensor("token_embd.weight");
    QVERIFY(embedding);
    QCOMPARE(embedding->type, GgmlType::Q8_0);
    QCOMPARE(embedding->ne, (std::vector<int64_t>{576, 49152}));
    QCOMPARE(embedding->shapeString(), std::string("[576, 49152]"));
    QCOMPARE(embedding->offset, 0u);
    QCOMPARE(embedding->bytes, 30081024u);
    QCOMPARE(embedding->rowCount(), 49152);
    QVERIFY(!file.findTensor("output.weight")); // tied embeddings

    const TensorInfo* down = file.findTensor("blk.29.ffn_down.weight");
    QVERIFY(down);
    QCOMPARE(down->type, GgmlType::Q4_1);
    QCOMPARE(down->ne, (std::vector<int64_t>{1536, 576}));
    QCOMPARE(file.dataOffset() + down->offset, 80630848u);

    uint64_t dataEnd = 0;
    for (const TensorInfo& t : file.tensors()) {
        QCOMPARE(reinterpret_cast<uintptr_t>(t.data) % 32, 0u);
        dataEnd = std::max(dataEnd, file.dataOffset() + t.offset + t.bytes);
    }
    QCOMPARE(dataEnd, file.fileSize()); // the last tensor ends exactly at the end of the file
    QCOMPARE(file.fileSize(), 98362432u);
}

// ---- damaged and hostile files ------------------------------------------------------------------

void TestGguf::truncatedAtEveryByte() {
    GgufWriter writer = sampleWriter();
    writer.setValue(
        "sample.nested",
        arrayValue(ValueType::Array, {arrayValue(ValueType::String, {stringValue("n")})}));
    const Bytes image = writer.toBytes();
    auto whole = GgufFile::fromBytes(image, kDisplayName);
    VERIFY_OK(whole);
    uint64_t dataEnd = 0;
    for (const TensorInfo& t : whole->tensors())
        dataEnd = std::max(dataEnd, whole->dataOffset() + t.offset + t.bytes);
    QVERIFY(dataEnd < image.size()); // some cuts land in the final padding and still parse

    // Every cut through header, metadata, tensor infos and data must fail cleanly; cuts in the
    // trailing padding after the last tensor leave a complete file.
    for (size_t cut = 0; cut < image.size(); ++cut) {
        const Bytes prefix(image.begin(), image.begin() + std::ptrdiff_t(cut));
        if (cut >= dataEnd) {
            VERIFY_OK(GgufFile::fromBytes(prefix, kDisplayName));
            continue;
        }
        if (cut < 4) {
            VERIFY_REJECTED(prefix, "too short to be a GGUF file");
        } else {
            VERIFY_REJECTED(prefix, "truncated");
        }
    }
}

void TestGguf::randomCorruptionNeverCrashes() {
    const Bytes image = sampleWriter().toBytes();
    const auto valid = GgufFile::fromBytes(image, kDisplayName);
    VERIFY_OK(valid);
    // Corrupt only the structural part: damage in tensor data is invisible to the reader.
    const size_t structureEnd = valid->dataOffset();
    std::mt19937 random(1234);
    int rejected = 0;
    for (int trial = 0; trial < 4000; ++trial) {
        Bytes damaged = image;
        const int flips = 1 + int(random() % 4);
        for (int k = 0; k < flips; ++k) {
            const size_t at = random() % structureEnd;
            damaged[at] = trial % 3 == 0 ? uint8_t(0xFF) : static_cast<uint8_t>(random());
        }
        const auto result = GgufFile::fromBytes(damaged, kDisplayName);
        if (!result.isOk()) {
            ++rejected;
            QVERIFY2(result.status().code() == ErrorCode::InvalidFile, result.message().c_str());
            QVERIFY2(result.message().starts_with("damaged.gguf: "), result.message().c_str());
            continue;
        }
        // Whatever was accepted must be usable: every tensor inside the file, every value
        // printable.
        for (const TensorInfo& t : result->tensors())
            QVERIFY(result->dataOffset() + t.offset + t.bytes <= result->fileSize());
        for (const auto& [key, value] : result->metadata())
            QVERIFY(!value.toDisplayString().empty());
    }
    QVERIFY(rejected > 1000);
}

void TestGguf::badMagic() {
    Bytes image = sampleWriter().toBytes();
    image[0] = 'G';
    image[1] = 'G';
    image[2] = 'M';
    image[3] = 'L';
    VERIFY_REJECTED(image, "not a GGUF file", "\"GGML\"");
    const Bytes twoBytes = {'G', 'G'};
    VERIFY_REJECTED(twoBytes, "2 bytes long, too short");
    VERIFY_REJECTED(Bytes{}, "0 bytes long");
}

void TestGguf::unsupportedVersions() {
    VERIFY_REJECTED(sampleWriter(1).toBytes(), "version 1", "not supported");
    VERIFY_REJECTED(sampleWriter(99).toBytes(), "unsupported GGUF version 99", "expected 2 or 3");
    Bytes bigEndian = sampleWriter().toBytes();
    patch<uint32_t>(bigEndian, 4, 0x03000000);
    VERIFY_REJECTED(bigEndian, "big-endian");
}

void TestGguf::impossibleCounts() {
    Bytes manyKeys = sampleWriter().toBytes();
    patch<uint64_t>(manyKeys, 16, kTwoTo62);
    VERIFY_REJECTED(manyKeys, "metadata count 4611686018427387904", "bytes left in the file");
    Bytes manyTensors = sampleWriter().toBytes();
    patch<uint64_t>(manyTensors, 8, uint64_t(1) << 40);
    VERIFY_REJECTED(manyTensors, "tensor count 1099511627776");
    // A count that fits the bytes left but promises more entries than there are.
    Bytes oneTooMany = sampleWriter().toBytes();
    patch<uint64_t>(oneTooMany, 16, peek<uint64_t>(oneTooMany, 16) + 1);
    QVERIFY(!GgufFile::fromBytes(oneTooMany, kDisplayName).isOk());
}

void TestGguf::hugeStringLength() {
    Bytes image = sampleWriter().toBytes();
    const size_t text = findUnique(image, "sample model");
    patch<uint64_t>(image, text - 8, kTwoTo62);
    VERIFY_REJECTED(image, "metadata key 'sample.name'", "string length 4611686018427387904",
                    "offset " + std::to_string(text - 8));

    Bytes hugeKey = sampleWriter().toBytes();
    patch<uint64_t>(hugeKey, findUnique(hugeKey, "sample.count") - 8, ~0ull);
    VERIFY_REJECTED(hugeKey, "key of metadata entry 2", "string length 18446744073709551615");

    Bytes hugeName = sampleWriter().toBytes();
    patch<uint64_t>(hugeName, tensorFields(hugeName, "tensor.second").nameLength, kTwoTo62);
    VERIFY_REJECTED(hugeName, "name of tensor 1", "string length 4611686018427387904");
}

void TestGguf::hugeArrayCount() {
    for (std::string_view key : {"sample.ids", "sample.words"}) {
        Bytes image = sampleWriter().toBytes();
        const size_t count = valueTypeField(image, key) + 4 + 4; // type tag, element type
        patch<uint64_t>(image, count, kTwoTo62);
        VERIFY_REJECTED(image, "metadata key '" + std::string(key) + "'",
                        "array count 4611686018427387904 at offset " + std::to_string(count));
    }
}

void TestGguf::tooManyMetadataValues() {
    // A uint8 array whose items all lie in the file, but which would take ~90 bytes per item in
    // memory: the reader refuses before allocating.
    GgufWriter writer;
    writer.setValue("bulk", arrayValue(ValueType::UInt8, {unsignedValue(ValueType::UInt8, 0)}));
    Bytes image = writer.toBytes();
    const uint64_t items = (uint64_t(1) << 22) + 1;
    patch<uint64_t>(image, valueTypeField(image, "bulk") + 8, items);
    image.resize(image.size() + items);
    VERIFY_REJECTED(image, "metadata key 'bulk'", "4194304 values in total");
}

void TestGguf::unknownValueTypes() {
    Bytes image = sampleWriter().toBytes();
    const size_t tag = valueTypeField(image, "sample.count");
    patch<uint32_t>(image, tag, 13);
    VERIFY_REJECTED(image, "metadata key 'sample.count'", "unknown value type 13",
                    "offset " + std::to_string(tag));

    Bytes badElement = sampleWriter().toBytes();
    patch<uint32_t>(badElement, valueTypeField(badElement, "sample.ids") + 4, 0xDEAD);
    VERIFY_REJECTED(badElement, "metadata key 'sample.ids'", "unknown array element type 57005");
}

void TestGguf::boolOtherThanZeroOrOne() {
    Bytes image = sampleWriter().toBytes();
    const size_t byte = valueTypeField(image, "sample.flag") + 4;
    QCOMPARE(image[byte], uint8_t(1));
    image[byte] = 2;
    VERIFY_REJECTED(image, "metadata key 'sample.flag'", "bool value 2",
                    "offset " + std::to_string(byte), "must be 0 or 1");

    GgufWriter writer; // the writer writes what it is told, even inside arrays
    writer.setValue("flags", arrayValue(ValueType::Bool, {unsignedValue(ValueType::Bool, 255)}));
    VERIFY_REJECTED(writer.toBytes(), "metadata key 'flags'", "bool value 255");
}

void TestGguf::emptyKey() {
    GgufWriter writer;
    writer.setUInt32("first", 1);
    writer.setUInt32("", 2);
    VERIFY_REJECTED(writer.toBytes(), "metadata entry 1 at offset", "empty key");
}

void TestGguf::duplicateKey() {
    GgufWriter writer = sampleWriter();
    writer.setUInt32("dup.key.a", 1);
    writer.setString("dup.key.b", "two");
    Bytes image = writer.toBytes();
    const size_t second = findUnique(image, "dup.key.b");
    image[second + 8] = 'a';
    VERIFY_REJECTED(image, "metadata key 'dup.key.a'", "duplicate key",
                    "offset " + std::to_string(second - 8));
}

void TestGguf::badAlignment_data() {
    QTest::addColumn<Value>("alignment");
    QTest::addColumn<QString>("expected");
    QTest::newRow("zero") << unsignedValue(ValueType::UInt32, 0)
                          << "'general.alignment' is 0: expected a non-zero power of two";
    QTest::newRow("three") << unsignedValue(ValueType::UInt32, 3)
                           << "'general.alignment' is 3: expected a non-zero power of two";
    QTest::newRow("48") << unsignedValue(ValueType::UInt32, 48) << "is 48: expected a non-zero";
    QTest::newRow("uint64") << unsignedValue(ValueType::UInt64, 32)
                            << "'general.alignment' is uint64, expected uint32";
    QTest::newRow("string") << stringValue("32") << "is string, expected uint32";
}

void TestGguf::badAlignment() {
    QFETCH(Value, alignment);
    QFETCH(QString, expected);
    GgufWriter writer = sampleWriter();
    writer.setValue("general.alignment", alignment);
    VERIFY_REJECTED(writer.toBytes(), expected.toStdString());
}

void TestGguf::arraysNestedTooDeep() {
    const auto nestedArray = [](int depth) {
        Value v = arrayValue(ValueType::Int32, {signedValue(ValueType::Int32, 1)});
        for (int level = 1; level < depth; ++level)
            v = arrayValue(ValueType::Array, {v});
        return v;
    };
    GgufWriter deepest;
    deepest.setValue("nested", nestedArray(8));
    auto file = GgufFile::fromBytes(deepest.toBytes(), "nested.gguf");
    VERIFY_OK(file);
    QCOMPARE(file->find("nested")->toDisplayString(), std::string("[[[[[[[[1]]]]]]]]"));

    GgufWriter tooDeep;
    tooDeep.setValue("nested", nestedArray(9));
    VERIFY_REJECTED(tooDeep.toBytes(), "metadata key 'nested'", "nested more than 8 deep");
}

void TestGguf::badDimensionCount() {
    for (uint32_t dims : {0u, 5u, 0xFFFFFFFFu}) {
        Bytes image = sampleWriter().toBytes();
        const TensorFields fields = tensorFields(image, "tensor.second");
        patch<uint32_t>(image, fields.nDims, dims);
        VERIFY_REJECTED(image, "tensor 'tensor.second'", "n_dims is " + std::to_string(dims),
                        "offset " + std::to_string(fields.nDims), "expected 1 to 4");
    }
}

void TestGguf::negativeDimension() {
    Bytes image = sampleWriter().toBytes();
    const TensorFields fields = tensorFields(image, "tensor.first");
    patch<uint64_t>(image, fields.ne + 8, uint64_t(1) << 63);
    VERIFY_REJECTED(image, "tensor 'tensor.first'", "dimension 1 is 9223372036854775808",
                    "offset " + std::to_string(fields.ne + 8));
}

void TestGguf::elementCountOverflow() {
    // [2^32, 2^31] has 2^63 elements, one more than int64 holds.
    Bytes image = sampleWriter().toBytes();
    const TensorFields fields = tensorFields(image, "tensor.first");
    patch<uint64_t>(image, fields.ne, uint64_t(1) << 32);
    patch<uint64_t>(image, fields.ne + 8, uint64_t(1) << 31);
    VERIFY_REJECTED(image, "tensor 'tensor.first'", "shape [4294967296, 2147483648]",
                    "more than 2^63-1 elements");

    GgufWriter fourDims; // the overflow happens among the outer dimensions alone
    fourDims.addTensor("wide", {1, 1 << 21, 1 << 21, 1 << 21}, GgmlType::F32, {});
    VERIFY_REJECTED(fourDims.toBytes(), "tensor 'wide'", "more than 2^63-1 elements");
}

void TestGguf::byteSizeOverflow() {
    // 2^62 float32 elements fit int64 but take 2^64 bytes.
    GgufWriter writer;
    writer.addTensor("vast", {int64_t(1) << 31, int64_t(1) << 31}, GgmlType::F32, {});
    VERIFY_REJECTED(writer.toBytes(), "tensor 'vast'", "of F32 takes more than 2^64 bytes");
}

void TestGguf::unknownGgmlType() {
    for (uint32_t raw : {4u, 31u, 1000u}) {
        Bytes image = sampleWriter().toBytes();
        const TensorFields fields = tensorFields(image, "tensor.third");
        patch<uint32_t>(image, fields.type, raw);
        VERIFY_REJECTED(image, "tensor 'tensor.third'", "unknown ggml type " + std::to_string(raw),
                        "offset " + std::to_string(fields.type));
    }
}

void TestGguf::rowNotMultipleOfBlockSize() {
    Bytes image = sampleWriter().toBytes();
    patch<uint64_t>(image, tensorFields(image, "tensor.second").ne, 48);
    VERIFY_REJECTED(image, "tensor 'tensor.second'", "rows of 48 elements",
                    "not a multiple of Q4_0's block size 32");

    GgufWriter kQuant;
    kQuant.addTensor("kq", {576, 1}, GgmlType::Q4_K, {});
    VERIFY_REJECTED(kQuant.toBytes(), "tensor 'kq'", "rows of 576", "Q4_K's block size 256");
}

void TestGguf::misalignedTensorOffset() {
    Bytes image = sampleWriter().toBytes();
    const size_t offset = tensorFields(image, "tensor.third").offset;
    patch<uint64_t>(image, offset, peek<uint64_t>(image, offset) + 16);
    VERIFY_REJECTED(image, "tensor 'tensor.third'", "is not a multiple of the alignment 32");
}

void TestGguf::tensorDataPastEndOfFile() {
    const Bytes image = sampleWriter().toBytes();
    const auto whole = GgufFile::fromBytes(image, kDisplayName);
    VERIFY_OK(whole);
    const TensorInfo& last = *whole->findTensor("tensor.third");
    const uint64_t start = whole->dataOffset() + last.offset;

    const Bytes cut(image.begin(), image.begin() + std::ptrdiff_t(start + last.bytes - 1));
    VERIFY_REJECTED(cut,
                    "tensor 'tensor.third' data [offset " + std::to_string(start) + ", 102 bytes]",
                    "runs past the end of the file (" + std::to_string(cut.size()) + " bytes)",
                    "the file is truncated");

    Bytes farAway = image;
    patch<uint64_t>(farAway, tensorFields(farAway, "tensor.first").offset, uint64_t(1) << 40);
    VERIFY_REJECTED(farAway, "tensor 'tensor.first'", "data offset 1099511627776",
                    "past the end of the file");

    Bytes wrapsAround = image; // offset + size would wrap past 2^64
    patch<uint64_t>(wrapsAround, tensorFields(wrapsAround, "tensor.first").offset, ~0ull - 31);
    VERIFY_REJECTED(wrapsAround, "tensor 'tensor.first'", "past the end of the file");
}

void TestGguf::overlappingTensors() {
    Bytes image = sampleWriter().toBytes();
    // tensor.first takes 128 bytes at offset 0; point tensor.second into its middle.
    patch<uint64_t>(image, tensorFields(image, "tensor.second").offset, 64);
    const auto dataOffset =
        std::to_string(GgufFile::fromBytes(sampleWriter().toBytes(), "x")->dataOffset());
    VERIFY_REJECTED(image, "tensors 'tensor.first' [offset " + dataOffset + ", 128 bytes]",
                    "and 'tensor.second'", "overlap");

    Bytes sameStart = sampleWriter().toBytes();
    patch<uint64_t>(sameStart, tensorFields(sameStart, "tensor.third").offset, 0);
    VERIFY_REJECTED(sameStart, "'tensor.third'", "'tensor.first'", "overlap");
}

void TestGguf::duplicateTensorName() {
    Bytes image = sampleWriter().toBytes();
    const TensorFields third = tensorFields(image, "tensor.third");
    // "tensor.third" and "tensor.first" have the same length: rename the third to the first.
    std::memcpy(image.data() + third.nameLength + 8, "tensor.first", 12);
    VERIFY_REJECTED(image, "tensor 'tensor.first'", "duplicate name",
                    "offset " + std::to_string(third.nameLength));
}

void TestGguf::badTensorNames() {
    const std::string longest(64, 'n');
    GgufWriter fits;
    fits.addTensor(longest, {4}, GgmlType::F32, randomBytes(16, 1));
    VERIFY_OK(GgufFile::fromBytes(fits.toBytes(), "names.gguf"));

    GgufWriter tooLong;
    tooLong.addTensor(longest + "n", {4}, GgmlType::F32, randomBytes(16, 1));
    VERIFY_REJECTED(tooLong.toBytes(), "is 65 bytes long; the limit is 64 (GGML_MAX_NAME)");

    GgufWriter empty;
    empty.addTensor("", {4}, GgmlType::F32, randomBytes(16, 1));
    VERIFY_REJECTED(empty.toBytes(), "tensor 0 at offset 24 has an empty name");

    GgufWriter binary; // control bytes in names are escaped in messages
    binary.addTensor("bad\nname", {4}, GgmlType::Q8_0, {});
    VERIFY_REJECTED(binary.toBytes(), "tensor 'bad\\nname'");
}

void TestGguf::openErrors() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::filesystem::path root = dir.path().toStdString();

    const auto missing = GgufFile::open(root / "absent.gguf");
    QCOMPARE(missing.status().code(), ErrorCode::NotFound);
    QVERIFY2(missing.message().starts_with("absent.gguf: cannot open "), missing.message().c_str());
    QVERIFY2(missing.message().ends_with("No such file or directory"), missing.message().c_str());

    const auto directory = GgufFile::open(root);
    QCOMPARE(directory.status().code(), ErrorCode::InvalidFile);
    QVERIFY2(directory.message().find("not a regular file") != std::string::npos,
             directory.message().c_str());

    std::ofstream(root / "empty.gguf").close();
    const auto empty = GgufFile::open(root / "empty.gguf");
    QCOMPARE(empty.status().code(), ErrorCode::InvalidFile);
    QCOMPARE(empty.message(),
             std::string("empty.gguf: the file is 0 bytes long, too short to be a GGUF file"));

    const hip::Status unwritable = sampleWriter().writeFile(root / "no" / "such" / "dir.gguf");
    QCOMPARE(unwritable.code(), ErrorCode::InvalidArgument);
    QVERIFY2(unwritable.message().find("No such file or directory") != std::string::npos,
             unwritable.message().c_str());
}

QTEST_GUILESS_MAIN(TestGguf)
#include "test_gguf.moc"
