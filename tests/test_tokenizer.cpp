// Tokenizers against goldens from independent implementations (scripts/make_tokenizer_golden.py:
// Hugging Face `tokenizers` for byte-level BPE, Python `sentencepiece` for SentencePiece), plus
// the properties the rest of the engine relies on: spans, decoding, streaming, special tokens.

#include "test_support.h"

#include "gguf/gguf_file.h"
#include "gguf/gguf_writer.h"
#include "tokenizer/byte_alphabet.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

#include <chrono>
#include <fstream>
#include <random>
#include <sstream>

using hip::Result;
using hip::tok::EncodeOptions;
using hip::tok::Encoding;
using hip::tok::StreamingDecoder;
using hip::tok::TokenId;
using hip::tok::Tokenizer;
using hip::tok::TokenizerSpec;

namespace {

std::string readFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream contents;
    contents << in.rdbuf();
    return contents.str();
}

const std::string& corpus() {
    static const std::string text = readFile(hiptest::dataDir() / "tokenizer_corpus.txt");
    return text;
}

// The corpus split after each '\n', so that every line is encoded on its own as well.
std::vector<std::string_view> corpusLines() {
    std::vector<std::string_view> lines;
    const std::string_view text = corpus();
    for (size_t begin = 0; begin < text.size();) {
        const size_t newline = text.find('\n', begin);
        const size_t end = newline == std::string_view::npos ? text.size() : newline + 1;
        lines.push_back(text.substr(begin, end - begin));
        begin = end;
    }
    return lines;
}

Result<TokenizerSpec> specFromGguf(const std::filesystem::path& path) {
    auto file = hip::gguf::GgufFile::open(path);
    HIP_TRY(file);
    return hip::tok::tokenizerSpecFromGguf(*file);
}

// Vocabularies under test: the default model and the synthetic ones the golden script trained.
std::filesystem::path vocabularyPath(const QString& name) {
    if (name == "smollm2") return hiptest::defaultModelPath();
    return hiptest::dataDir() / ("tokenizer_" + name.toStdString() + ".gguf");
}

std::unique_ptr<Tokenizer> loadTokenizer(const QString& name) {
    auto spec = specFromGguf(vocabularyPath(name));
    if (!spec) qWarning("%s: %s", qPrintable(name), spec.message().c_str());
    if (!spec) return nullptr;
    auto tokenizer = Tokenizer::create(*spec);
    if (!tokenizer) qWarning("%s: %s", qPrintable(name), tokenizer.message().c_str());
    if (!tokenizer) return nullptr;
    return std::move(*tokenizer);
}

struct GoldenCase {
    EncodeOptions options;
    std::string label; // where the text came from, for failure messages
    std::string text;
    std::vector<TokenId> ids;
};

std::string fromHex(std::string_view hex) {
    std::string bytes;
    for (size_t i = 0; i + 1 < hex.size(); i += 2)
        bytes.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    return bytes;
}

// Reads the golden format documented in scripts/make_tokenizer_golden.py.
std::vector<GoldenCase> loadGolden(const QString& name) {
    std::vector<GoldenCase> cases;
    std::istringstream lines(
        readFile(hiptest::dataDir() / ("tokenizer_golden_" + name.toStdString() + ".txt")));
    for (std::string line; std::getline(lines, line);) {
        if (line.empty() || line.front() == '#') continue;
        const size_t separator = line.find(" : ");
        std::istringstream head(line.substr(0, separator));
        int addSpecial = 0, parseSpecial = 0;
        std::string source;
        head >> addSpecial >> parseSpecial >> source;
        GoldenCase golden;
        golden.options = {addSpecial != 0, parseSpecial != 0};
        golden.label = source.substr(0, 60);
        if (source.starts_with("corpus:")) {
            const size_t dash = source.find('-');
            const size_t begin = std::stoul(source.substr(7, dash - 7));
            const size_t end = std::stoul(source.substr(dash + 1));
            golden.text = corpus().substr(begin, end - begin);
        } else {
            golden.text = fromHex(source.substr(4));
        }
        std::istringstream ids(separator == std::string::npos ? "" : line.substr(separator + 3));
        for (TokenId id; ids >> id;)
            golden.ids.push_back(id);
        cases.push_back(std::move(golden));
    }
    return cases;
}

QString describeTokens(const Tokenizer& tokenizer, std::span<const TokenId> ids) {
    QStringList parts;
    for (TokenId id : ids)
        parts << QStringLiteral("%1:%2").arg(id).arg(
            QString::fromStdString(tokenizer.tokenBytes(id, true)).toHtmlEscaped());
    return parts.join(' ');
}

// The first difference between two id sequences, with the tokens around it.
QString firstDifference(const Tokenizer& tokenizer, const std::vector<TokenId>& expected,
                        const std::vector<TokenId>& actual) {
    size_t at = 0;
    while (at < expected.size() && at < actual.size() && expected[at] == actual[at])
        ++at;
    const size_t from = at >= 3 ? at - 3 : 0;
    auto window = [&](const std::vector<TokenId>& ids) {
        const size_t to = std::min(ids.size(), at + 5);
        return describeTokens(tokenizer,
                              std::span(ids).subspan(std::min(from, to), to - std::min(from, to)));
    };
    return QStringLiteral("%1 vs %2 ids; first difference at %3\n  expected %4\n  actual   %5")
        .arg(expected.size())
        .arg(actual.size())
        .arg(at)
        .arg(window(expected), window(actual));
}

bool isValidUtf8(std::string_view text) {
    for (size_t pos = 0; pos < text.size();) {
        const auto seq = hip::tok::utf8::examine(text, pos);
        if (seq.state != hip::tok::utf8::SequenceState::Complete) return false;
        pos += seq.length;
    }
    return true;
}

void addVocabularyRows() {
    QTest::addColumn<QString>("vocabulary");
    for (const char* name : {"smollm2", "llama_bpe", "qwen2", "spm"})
        QTest::newRow(name) << name;
}

} // namespace

class TestTokenizer : public QObject {
    Q_OBJECT

private slots:
    void matchesGolden_data() { addVocabularyRows(); }
    void matchesGolden() {
        QFETCH(QString, vocabulary);
        if (vocabulary == "smollm2") HIPTEST_REQUIRE_DEFAULT_MODEL();
        const auto tokenizer = loadTokenizer(vocabulary);
        QVERIFY(tokenizer);
        const auto cases = loadGolden(vocabulary);
        QVERIFY(cases.size() > 10);
        for (const GoldenCase& golden : cases) {
            const Encoding encoding = tokenizer->encode(golden.text, golden.options);
            if (encoding.ids != golden.ids)
                QFAIL(qPrintable(QStringLiteral("%1 (addSpecial %2, parseSpecial %3): %4")
                                     .arg(QString::fromStdString(golden.label))
                                     .arg(golden.options.addSpecial)
                                     .arg(golden.options.parseSpecial)
                                     .arg(firstDifference(*tokenizer, golden.ids, encoding.ids))));
        }
    }

    // Spans tile the input in order, so concatenating them gives the text back; for byte-level
    // BPE each span is exactly the token's bytes.
    void spansCoverInput_data() { addVocabularyRows(); }
    void spansCoverInput() {
        QFETCH(QString, vocabulary);
        if (vocabulary == "smollm2") HIPTEST_REQUIRE_DEFAULT_MODEL();
        const auto tokenizer = loadTokenizer(vocabulary);
        QVERIFY(tokenizer);
        const bool byteLevel = tokenizer->spec().model == "gpt2";
        std::vector<std::string_view> texts = corpusLines();
        texts.push_back(corpus());
        for (std::string_view text : texts) {
            const Encoding encoding = tokenizer->encode(text, {false, true});
            QCOMPARE(encoding.spans.size(), encoding.ids.size());
            uint32_t covered = 0;
            for (size_t i = 0; i < encoding.ids.size(); ++i) {
                const auto span = encoding.spans[i];
                QCOMPARE(span.begin, covered);
                QVERIFY(span.end >= span.begin);
                if (byteLevel)
                    QCOMPARE(tokenizer->tokenBytes(encoding.ids[i], true),
                             std::string(text.substr(span.begin, span.end - span.begin)));
                covered = span.end;
            }
            QCOMPARE(covered, static_cast<uint32_t>(text.size()));
        }
    }

    // Any bytes, valid UTF-8 or not, survive the round trip when the vocabulary has a token for
    // every byte, and the spans still tile the input.
    void arbitraryBytesRoundTrip() {
        const auto tokenizer = loadTokenizer("llama_bpe");
        QVERIFY(tokenizer);
        std::mt19937 random(7);
        for (int round = 0; round < 500; ++round) {
            std::string text(random() % 64, '\0');
            for (char& byte : text)
                byte = static_cast<char>(random() % 256);
            const Encoding encoding = tokenizer->encode(text, {false, false});
            QCOMPARE(tokenizer->decode(encoding.ids), text);
            uint32_t covered = 0;
            for (const auto& span : encoding.spans) {
                QCOMPARE(span.begin, covered);
                QVERIFY(span.end > span.begin);
                covered = span.end;
            }
            QCOMPARE(covered, static_cast<uint32_t>(text.size()));
        }
    }

    void decodeInvertsEncode_data() { addVocabularyRows(); }
    void decodeInvertsEncode() {
        QFETCH(QString, vocabulary);
        if (vocabulary == "smollm2") HIPTEST_REQUIRE_DEFAULT_MODEL();
        const auto tokenizer = loadTokenizer(vocabulary);
        QVERIFY(tokenizer);
        std::vector<std::string_view> texts = corpusLines();
        texts.push_back(corpus());
        for (std::string_view text : texts) {
            const Encoding encoding = tokenizer->encode(text);
            QCOMPARE(tokenizer->decode(encoding.ids), std::string(text));
        }
    }

    // Tokens that end inside a multi-byte character are held back until it is complete, so
    // every streamed chunk is valid UTF-8 and together they equal the whole decode.
    void streamingDecodeMatchesDecode_data() { addVocabularyRows(); }
    void streamingDecodeMatchesDecode() {
        QFETCH(QString, vocabulary);
        if (vocabulary == "smollm2") HIPTEST_REQUIRE_DEFAULT_MODEL();
        const auto tokenizer = loadTokenizer(vocabulary);
        QVERIFY(tokenizer);
        const Encoding encoding = tokenizer->encode(corpus());
        StreamingDecoder stream(*tokenizer);
        std::string streamed;
        size_t splitCharacters = 0;
        for (TokenId id : encoding.ids) {
            if (!isValidUtf8(tokenizer->tokenBytes(id))) ++splitCharacters;
            const std::string chunk = stream.push(id);
            QVERIFY(isValidUtf8(chunk));
            streamed += chunk;
        }
        streamed += stream.flush();
        QVERIFY2(splitCharacters > 10, "the corpus should make tokens that split characters");
        QCOMPARE(streamed, tokenizer->decode(encoding.ids));
    }

    void streamingDecodeReplacesInvalidBytes() {
        HIPTEST_REQUIRE_DEFAULT_MODEL();
        const auto tokenizer = loadTokenizer("smollm2");
        QVERIFY(tokenizer);
        auto byteToken = [&](uint8_t byte) {
            std::string text;
            hip::tok::utf8::appendCodepoint(text, hip::tok::byteToAlphabet(byte));
            return tokenizer->findToken(text);
        };
        const auto byte80 = byteToken(0x80); // a continuation byte on its own
        const auto byteE2 = byteToken(0xE2); // the first of three bytes
        const auto letter = byteToken('a');
        QVERIFY(byte80 && byteE2 && letter);

        StreamingDecoder stream(*tokenizer);
        QCOMPARE(stream.push(*byte80), std::string("\xEF\xBF\xBD"));
        QCOMPARE(stream.push(*byteE2), std::string()); // could still become a character
        QCOMPARE(stream.push(*letter), std::string("\xEF\xBF\xBD"
                                                   "a"));
        QCOMPARE(stream.push(*byteE2), std::string());
        QCOMPARE(stream.flush(), std::string("\xEF\xBF\xBD"));
        QCOMPARE(stream.flush(), std::string());
    }

    void specialTokensParsedOnlyWhenAsked() {
        HIPTEST_REQUIRE_DEFAULT_MODEL();
        const auto tokenizer = loadTokenizer("smollm2");
        QVERIFY(tokenizer);
        const std::string text = "<|im_start|>user\nHi<|im_end|>";

        const Encoding parsed = tokenizer->encode(text, {true, true});
        QVERIFY(parsed.ids.size() >= 4);
        QCOMPARE(parsed.ids.front(), 1);
        QCOMPARE(parsed.ids.back(), 2);
        QCOMPARE(parsed.spans.front().begin, 0u);
        QCOMPARE(parsed.spans.front().end, 12u); // the literal "<|im_start|>"
        QCOMPARE(parsed.spans.back().begin, static_cast<uint32_t>(text.size() - 10));
        QCOMPARE(tokenizer->decode(parsed.ids), std::string("user\nHi"));
        QCOMPARE(tokenizer->decode(parsed.ids, true), text);

        const Encoding literal = tokenizer->encode(text, {true, false});
        for (TokenId id : literal.ids)
            QVERIFY(id > 16); // no special token at all
        QCOMPARE(tokenizer->decode(literal.ids), text);
    }

    void endOfGenerationSet() {
        HIPTEST_REQUIRE_DEFAULT_MODEL();
        const auto tokenizer = loadTokenizer("smollm2");
        QVERIFY(tokenizer);
        QVERIFY(tokenizer->isEndOfGeneration(0)); // <|endoftext|>
        QVERIFY(tokenizer->isEndOfGeneration(2)); // <|im_end|>, also the GGUF's eos
        QVERIFY(!tokenizer->isEndOfGeneration(1));
        QVERIFY(!tokenizer->isEndOfGeneration(*tokenizer->findToken("Hello")));
    }

    void beginAndEndOfSequence() {
        HIPTEST_REQUIRE_DEFAULT_MODEL();
        const std::string text = "Hello world";
        const auto smollm2 = loadTokenizer("smollm2");  // add_bos_token = false in the GGUF
        const auto llama3 = loadTokenizer("llama_bpe"); // BPE with Llama 3 rules adds BOS
        const auto spm = loadTokenizer("spm");          // SentencePiece adds BOS
        QVERIFY(smollm2 && llama3 && spm);
        QVERIFY(!smollm2->addsBos());
        QCOMPARE(smollm2->encode(text).ids, smollm2->encode(text, {false, false}).ids);
        for (const Tokenizer* tokenizer : {llama3.get(), spm.get()}) {
            QVERIFY(tokenizer->addsBos());
            const Encoding encoding = tokenizer->encode(text);
            QCOMPARE(encoding.ids.front(), tokenizer->bos());
            QCOMPARE(encoding.spans.front().begin, 0u);
            QCOMPARE(encoding.spans.front().end, 0u);
            QVERIFY(!tokenizer->addsEos());
        }

        // The spec's flags override the model's defaults.
        TokenizerSpec spec = spm->spec();
        spec.addBos = false;
        spec.addEos = true;
        const auto overridden = Tokenizer::create(spec);
        QVERIFY(overridden);
        const Encoding encoding = (*overridden)->encode(text);
        QVERIFY(encoding.ids.front() != spec.bos);
        QCOMPARE(encoding.ids.back(), spec.eos);
        QCOMPARE(encoding.spans.back().begin, static_cast<uint32_t>(text.size()));
        QCOMPARE(encoding.spans.back().end, static_cast<uint32_t>(text.size()));
    }

    void preTokenizerNames() {
        HIPTEST_REQUIRE_DEFAULT_MODEL();
        auto spec = specFromGguf(hiptest::defaultModelPath());
        QVERIFY(spec);
        QCOMPARE(spec->pre, std::string("smollm"));

        spec->pre.clear();
        const auto fallback = Tokenizer::create(*spec);
        QVERIFY(fallback);
        QCOMPARE((*fallback)->warnings().size(), size_t{1});
        QVERIFY((*fallback)->warnings().front().find("tokenizer.ggml.pre") != std::string::npos);

        spec->pre = "no-such-pre-tokenizer";
        const auto unknown = Tokenizer::create(*spec);
        QVERIFY(!unknown);
        QVERIFY(unknown.message().find("no-such-pre-tokenizer") != std::string::npos);
    }

    void sentencePieceModelFromArrays() {
        const auto tokenizer = loadTokenizer("spm");
        QVERIFY(tokenizer);
        // Byte fallback: characters outside the small vocabulary become <0xXX> tokens.
        const std::string whale = "鯨"; // not in the corpus the model was trained on
        const Encoding encoding = tokenizer->encode(whale, {false, false});
        QCOMPARE(encoding.ids.size(), size_t{4}); // the dummy prefix and three bytes
        QCOMPARE(tokenizer->tokenText(encoding.ids[1]), std::string("<0xE9>"));
        QCOMPARE(tokenizer->decode(encoding.ids), whale);
        // Each byte token covers its own byte; the dummy prefix covers nothing.
        QCOMPARE(encoding.spans[0].end, 0u);
        for (uint32_t i = 0; i < 3; ++i) {
            QCOMPARE(encoding.spans[i + 1].begin, i);
            QCOMPARE(encoding.spans[i + 1].end, i + 1);
        }
        // The decoder drops only the space the dummy prefix added.
        QCOMPARE(tokenizer->decode(tokenizer->encode("  two spaces").ids),
                 std::string("  two spaces"));
    }

    // A tokenizer.model file gives the same tokenizer as the model synthesized from the GGUF.
    void sentencePieceModelFile() {
        const auto fromGguf = loadTokenizer("spm");
        QVERIFY(fromGguf);
        TokenizerSpec spec;
        spec.model = "llama";
        spec.sentencePieceModelFile = (hiptest::dataDir() / "tokenizer_spm.model").string();
        const auto fromFile = Tokenizer::create(spec);
        QVERIFY2(fromFile, fromFile.message().c_str());
        QCOMPARE((*fromFile)->vocabSize(), fromGguf->vocabSize());
        QCOMPARE((*fromFile)->bos(), fromGguf->bos());
        const Encoding expected = fromGguf->encode(corpus());
        const Encoding actual = (*fromFile)->encode(corpus());
        QCOMPARE(actual.ids, expected.ids);
        QCOMPARE((*fromFile)->decode(actual.ids), corpus());

        spec.sentencePieceModelFile = (hiptest::dataDir() / "no-such.model").string();
        const auto missing = Tokenizer::create(spec);
        QVERIFY(!missing);
        QCOMPARE(missing.status().code(), hip::ErrorCode::InvalidFile);
    }

    void specFromGgufRejectsInconsistentVocabularies_data() {
        QTest::addColumn<QString>("damage");
        QTest::addColumn<QString>("key");
        QTest::newRow("no tokens") << "no tokens"
                                   << "tokenizer.ggml.tokens";
        QTest::newRow("no model") << "no model"
                                  << "tokenizer.ggml.model";
        QTest::newRow("no merges") << "no merges"
                                   << "tokenizer.ggml.merges";
        QTest::newRow("short types") << "short types"
                                     << "tokenizer.ggml.token_type";
        QTest::newRow("short scores") << "short scores"
                                      << "tokenizer.ggml.scores";
        QTest::newRow("bad type") << "bad type"
                                  << "tokenizer.ggml.token_type";
        QTest::newRow("bos out of range") << "bos out of range"
                                          << "tokenizer.ggml.bos_token_id";
        QTest::newRow("eos negative") << "eos negative"
                                      << "tokenizer.ggml.eos_token_id";
    }
    void specFromGgufRejectsInconsistentVocabularies() {
        QFETCH(QString, damage);
        QFETCH(QString, key);
        hip::gguf::GgufWriter writer;
        writer.setString("general.architecture", "llama");
        if (damage != "no model") writer.setString("tokenizer.ggml.model", "gpt2");
        if (damage != "no tokens") writer.setStringArray("tokenizer.ggml.tokens", {"a", "b", "ab"});
        if (damage != "no merges") writer.setStringArray("tokenizer.ggml.merges", {"a b"});
        writer.setInt32Array("tokenizer.ggml.token_type",
                             damage == "short types" ? std::vector<int32_t>{1, 1}
                             : damage == "bad type"  ? std::vector<int32_t>{1, 9, 1}
                                                     : std::vector<int32_t>{1, 1, 1});
        if (damage == "short scores") writer.setFloat32Array("tokenizer.ggml.scores", {0.f});
        writer.setUInt32("tokenizer.ggml.bos_token_id", damage == "bos out of range" ? 3 : 0);
        writer.setInt32("tokenizer.ggml.eos_token_id", damage == "eos negative" ? -1 : 1);

        const std::vector<uint8_t> bytes = writer.toBytes();
        auto file = hip::gguf::GgufFile::fromBytes(bytes, "damaged.gguf");
        QVERIFY2(file, file.message().c_str());
        const auto spec = hip::tok::tokenizerSpecFromGguf(*file);
        QVERIFY(!spec);
        QCOMPARE(spec.status().code(), hip::ErrorCode::InvalidFile);
        QVERIFY2(spec.message().find(key.toStdString()) != std::string::npos,
                 spec.message().c_str());
    }

    void specFromGgufReadsTheDefaultModel() {
        HIPTEST_REQUIRE_DEFAULT_MODEL();
        const auto spec = specFromGguf(hiptest::defaultModelPath());
        QVERIFY2(spec, spec.message().c_str());
        QCOMPARE(spec->model, std::string("gpt2"));
        QCOMPARE(spec->tokens.size(), size_t{49152});
        QCOMPARE(spec->merges.size(), size_t{48900});
        QCOMPARE(spec->bos, 1);
        QCOMPARE(spec->eos, 2);
        QCOMPARE(spec->addBos, std::optional<bool>(false));
        QCOMPARE(spec->types[1], hip::tok::TokenType::Control);
    }

    // Books of a million tokens get tokenized: a megabyte of English-like text must take well
    // under a second (the target is over 1 MB/s on one core; asserted in optimized builds).
    void encodesAMegabyteQuickly() {
        HIPTEST_REQUIRE_DEFAULT_MODEL();
        const auto tokenizer = loadTokenizer("smollm2");
        QVERIFY(tokenizer);
        std::vector<std::string_view> words;
        const std::string_view prose = std::string_view(corpus()).substr(0, 3400);
        for (size_t begin = 0; begin < prose.size();) {
            const size_t space = std::min(prose.find(' ', begin), prose.size());
            words.push_back(prose.substr(begin, space - begin));
            begin = space + 1;
        }
        std::mt19937 random(42);
        std::string text;
        while (text.size() < (1u << 20)) {
            text += words[random() % words.size()];
            text += ' ';
        }
        const auto start = std::chrono::steady_clock::now();
        const Encoding encoding = tokenizer->encode(text);
        const double seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        const double megabytesPerSecond = static_cast<double>(text.size()) / 1e6 / seconds;
        qInfo("encoded %zu bytes into %zu tokens at %.1f MB/s", text.size(), encoding.ids.size(),
              megabytesPerSecond);
#ifdef NDEBUG
        QVERIFY(megabytesPerSecond > 1.0);
#endif
    }
};

QTEST_GUILESS_MAIN(TestTokenizer)
#include "test_tokenizer.moc"
