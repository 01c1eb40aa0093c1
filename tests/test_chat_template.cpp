// Chat templates against jinja2's renderings (tests/data/tokenizer_chat_golden.json, made by
// scripts/make_tokenizer_golden.py) of SmolLM2's real template and of representative ChatML,
// Llama 3, Llama 2 and Gemma templates.

#include "test_support.h"

#include "gguf/gguf_file.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

using hip::tok::ChatFormat;
using hip::tok::ChatMessage;
using hip::tok::ChatTemplate;

namespace {

QJsonArray goldenTemplates() {
    QFile file(
        QString::fromStdString((hiptest::dataDir() / "tokenizer_chat_golden.json").string()));
    if (!file.open(QIODevice::ReadOnly)) return {};
    return QJsonDocument::fromJson(file.readAll()).object().value("templates").toArray();
}

QJsonObject goldenTemplate(const QString& name) {
    for (const QJsonValue& entry : goldenTemplates())
        if (entry.toObject().value("name").toString() == name) return entry.toObject();
    return {};
}

std::string text(const QJsonObject& object, const char* key) {
    return object.value(key).toString().toStdString();
}

std::vector<ChatMessage> messagesOf(const QJsonObject& golden) {
    std::vector<ChatMessage> messages;
    for (const QJsonValue& message : golden.value("messages").toArray())
        messages.push_back({text(message.toObject(), "role"), text(message.toObject(), "content")});
    return messages;
}

std::string defaultModelChatTemplate() {
    auto file = hip::gguf::GgufFile::open(hiptest::defaultModelPath());
    if (!file) return {};
    auto jinja = file->getString("tokenizer.chat_template");
    return jinja ? *jinja : std::string();
}

} // namespace

class TestChatTemplate : public QObject {
    Q_OBJECT

private slots:
    void rendersLikeJinja_data() {
        QTest::addColumn<QString>("name");
        for (const char* name : {"smollm2", "qwen2.5-style", "llama3", "llama2", "gemma"})
            QTest::newRow(name) << name;
    }
    void rendersLikeJinja() {
        QFETCH(QString, name);
        const QJsonObject golden = goldenTemplate(name);
        QVERIFY2(!golden.isEmpty(), "template missing from tokenizer_chat_golden.json");

        std::string warning;
        const ChatTemplate chat = ChatTemplate::detect(text(golden, "jinja"), &warning);
        QCOMPARE(chat.formatName(), text(golden, "format"));
        QCOMPARE(chat.defaultSystemPrompt(), text(golden, "default_system_prompt"));
        QVERIFY(warning.empty());

        const QJsonArray cases = golden.value("cases").toArray();
        QVERIFY(cases.size() >= 8);
        for (const QJsonValue& entry : cases) {
            const QJsonObject example = entry.toObject();
            const bool addGenerationPrompt = example.value("add_generation_prompt").toBool();
            const std::string rendered = chat.render(messagesOf(example), addGenerationPrompt);
            QVERIFY2(
                rendered == text(example, "rendered"),
                qPrintable(QStringLiteral("%1, generation prompt %2:\nexpected %3\nactual   %4")
                               .arg(example.value("conversation").toString())
                               .arg(addGenerationPrompt)
                               .arg(example.value("rendered").toString(),
                                    QString::fromStdString(rendered))));
        }
    }

    // The SmolLM2 golden must come from the template the default model actually ships.
    void goldenUsesTheDefaultModelsTemplate() {
        HIPTEST_REQUIRE_DEFAULT_MODEL();
        const std::string jinja = defaultModelChatTemplate();
        QVERIFY(!jinja.empty());
        QCOMPARE(jinja, text(goldenTemplate("smollm2"), "jinja"));
        const ChatTemplate chat = ChatTemplate::detect(jinja);
        QCOMPARE(chat.format(), ChatFormat::ChatML);
        QCOMPARE(
            chat.defaultSystemPrompt(),
            std::string("You are a helpful AI assistant named SmolLM, trained by Hugging Face"));
    }

    // A rendered prompt tokenizes into the model's control tokens.
    void renderedPromptTokenizesToControlTokens() {
        HIPTEST_REQUIRE_DEFAULT_MODEL();
        auto file = hip::gguf::GgufFile::open(hiptest::defaultModelPath());
        QVERIFY(file);
        auto spec = hip::tok::tokenizerSpecFromGguf(*file);
        QVERIFY(spec);
        auto tokenizer = hip::tok::Tokenizer::create(*spec);
        QVERIFY(tokenizer);
        const ChatTemplate chat = ChatTemplate::detect(defaultModelChatTemplate());
        const std::string prompt = chat.render({{"user", "Hi"}}, true);
        const auto ids = (*tokenizer)->encode(prompt, {true, true}).ids;
        const auto imStart = (*tokenizer)->findToken("<|im_start|>");
        const auto imEnd = (*tokenizer)->findToken("<|im_end|>");
        QVERIFY(imStart && imEnd);
        QCOMPARE(std::count(ids.begin(), ids.end(), *imStart), 3); // system, user, assistant
        QCOMPARE(std::count(ids.begin(), ids.end(), *imEnd), 2);
        QCOMPARE(ids.front(), *imStart);
    }

    void detectsFormatsByMarkers_data() {
        QTest::addColumn<QString>("jinja");
        QTest::addColumn<QString>("format");
        QTest::addColumn<bool>("warns");
        QTest::newRow("chatml") << "{{ '<|im_start|>' + m.role }}"
                                << "chatml" << false;
        QTest::newRow("llama3") << "{{ '<|start_header_id|>' }}"
                                << "llama3" << false;
        QTest::newRow("llama2") << "{{ '[INST] ' + content }}"
                                << "llama2" << false;
        QTest::newRow("gemma") << "{{ '<start_of_turn>user' }}"
                               << "gemma" << false;
        QTest::newRow("empty") << ""
                               << "chatml" << true;
        QTest::newRow("unknown") << "{{ '### Instruction:' }}"
                                 << "chatml" << true;
    }
    void detectsFormatsByMarkers() {
        QFETCH(QString, jinja);
        QFETCH(QString, format);
        QFETCH(bool, warns);
        std::string warning;
        const ChatTemplate chat = ChatTemplate::detect(jinja.toStdString(), &warning);
        QCOMPARE(chat.formatName(), format.toStdString());
        QCOMPARE(!warning.empty(), warns);
        QVERIFY(chat.defaultSystemPrompt().empty());
    }

    // A template that only inserts the caller's system message has no default prompt.
    void noDefaultSystemPromptWithoutALiteral() {
        const ChatTemplate chat = ChatTemplate::detect(
            "{% for m in messages %}{{ '<|im_start|>system\\n' + m['content'] + '<|im_end|>' }}"
            "{% endfor %}");
        QCOMPARE(chat.format(), ChatFormat::ChatML);
        QVERIFY(chat.defaultSystemPrompt().empty());
        QCOMPARE(chat.render({{"user", "Hi"}}, true),
                 std::string("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"));
    }

    void ofFormatUsesTheGivenSystemPrompt() {
        const ChatTemplate chat = ChatTemplate::ofFormat(ChatFormat::ChatML, "Be brief.");
        QCOMPARE(chat.render({{"user", "Hi"}}, false),
                 std::string("<|im_start|>system\nBe brief.<|im_end|>\n"
                             "<|im_start|>user\nHi<|im_end|>\n"));
        QCOMPARE(chat.render({{"system", "Be long."}, {"user", "Hi"}}, false),
                 std::string("<|im_start|>system\nBe long.<|im_end|>\n"
                             "<|im_start|>user\nHi<|im_end|>\n"));
    }
};

QTEST_GUILESS_MAIN(TestChatTemplate)
#include "test_chat_template.moc"
