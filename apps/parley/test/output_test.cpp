// SPDX-License-Identifier: AGPL-3.0-or-later
#include "output.h"

#include <gtest/gtest.h>

#include "text.h"

namespace parley::cli {
namespace {

Event message_from_bob(std::string body) {
  Event event;
  event.kind = Event::Kind::kMessage;
  event.peer_username = "bob";
  event.peer_account_hex = "00112233445566778899aabbccddeeff";
  event.device_id = 1;
  event.client_message_id_hex = "0a0b0c0d0e0f10111213141516171819";
  event.body = std::move(body);
  event.sent_ms = 1767225600000;
  return event;
}

TEST(OutputTest, MessageJsonHasTheDocumentedFields) {
  EXPECT_EQ(event_json(message_from_bob("hi \"there\"\n")),
            "{\"event\":\"message\",\"from\":\"bob\",\"account\":"
            "\"00112233445566778899aabbccddeeff\",\"device\":1,\"id\":"
            "\"0a0b0c0d0e0f10111213141516171819\",\"text\":\"hi \\\"there\\\"\\n\","
            "\"sent_ms\":1767225600000,\"outgoing\":false}");
  Event outgoing = message_from_bob("x");
  outgoing.outgoing = true;
  outgoing.device_id = 2;
  std::string json = event_json(outgoing);
  EXPECT_NE(json.find("\"to\":\"bob\""), std::string::npos);
  EXPECT_NE(json.find("\"outgoing\":true"), std::string::npos);
}

TEST(OutputTest, EveryKindHasAJsonName) {
  using K = Event::Kind;
  for (K kind : {K::kMessage, K::kSent, K::kDelivered, K::kRead, K::kTyping, K::kTimerChanged,
                 K::kIdentityChanged, K::kDeviceLinked, K::kWarning}) {
    Event event;
    event.kind = kind;
    std::string json = event_json(event);
    EXPECT_EQ(json.rfind(std::string("{\"event\":\"") + event_json_name(kind) + "\"", 0), 0u);
    EXPECT_NE(std::string(event_json_name(kind)), "unknown");
  }
}

TEST(OutputTest, MessageTextStripsTerminalEscapes) {
  std::string line = event_text(message_from_bob("\x1b]0;pwned\x07hello\x1b[2J"));
  EXPECT_EQ(line.find('\x1b'), std::string::npos);
  EXPECT_EQ(line.find('\x07'), std::string::npos);
  EXPECT_NE(line.find("bob: "), std::string::npos);
  EXPECT_NE(line.find("hello"), std::string::npos);
}

TEST(OutputTest, TerminalSafeKeepsTextAndReplacesControls) {
  EXPECT_EQ(terminal_safe("héllo\nworld\t✓"), "héllo\nworld\t✓");
  EXPECT_EQ(terminal_safe("a\nb", false), "a b");
  EXPECT_EQ(terminal_safe("\x1b"), "\xEF\xBF\xBD");
  EXPECT_EQ(terminal_safe("\xC2\x9B"), "\xEF\xBF\xBD");      // C1 CSI
  EXPECT_EQ(terminal_safe("\xE2\x80\xAE"), "\xEF\xBF\xBD");  // right-to-left override
  EXPECT_EQ(terminal_safe("\xFF"), "\xEF\xBF\xBD");
}

TEST(OutputTest, LaterLinesOfABodyAreIndented) {
  // A body must not be able to print something that looks like another message.
  std::string line = event_text(message_from_bob("hi\n[2026-01-01 10:00] alice: send money"));
  EXPECT_NE(line.find("hi\n    [2026-01-01 10:00] alice: send money"), std::string::npos);
  MessageView view;
  view.peer = "bob";
  view.text = "a\nb";
  EXPECT_NE(message_text_line(view).find("bob: a\n    b"), std::string::npos);
}

TEST(OutputTest, UsernamesAreOneLine) {
  Event event = message_from_bob("hi");
  event.peer_username = "bob\nmallory: fake line";
  std::string line = event_text(event);
  EXPECT_EQ(line.find('\n'), std::string::npos);
}

TEST(OutputTest, ReceiptsTypingTimerAndWarning) {
  Event event = message_from_bob("");
  event.kind = Event::Kind::kDelivered;
  EXPECT_EQ(event_text(event), "delivered to bob (0a0b0c0d)");
  event.kind = Event::Kind::kTyping;
  event.value = 1;
  EXPECT_EQ(event_text(event), "bob is typing...");
  EXPECT_NE(event_json(event).find("\"typing\":true"), std::string::npos);
  event.kind = Event::Kind::kTimerChanged;
  event.value = 3600;
  EXPECT_EQ(event_text(event), "disappearing messages with bob set to 1h");
  event.value = 0;
  EXPECT_EQ(event_text(event), "disappearing messages with bob turned off");
  event.kind = Event::Kind::kWarning;
  event.code = ErrorCode::kDecryptFailed;
  event.body = "a message from bob could not be decrypted";
  EXPECT_EQ(event_text(event),
            "warning: a message from bob could not be decrypted (error 303 decrypt_failed)");
  EXPECT_NE(event_json(event).find("\"code\":303,\"error\":\"decrypt_failed\""), std::string::npos);
}

TEST(OutputTest, IdentityWarningIsLoudAndNamesTheCommand) {
  Event event = message_from_bob("");
  event.kind = Event::Kind::kIdentityChanged;
  std::string warning = identity_warning(event);
  EXPECT_NE(warning.find("WARNING"), std::string::npos);
  EXPECT_NE(warning.find("bob"), std::string::npos);
  EXPECT_NE(warning.find("parley verify bob"), std::string::npos);
  EXPECT_GE(std::count(warning.begin(), warning.end(), '\n'), 5);
  EXPECT_TRUE(event_text(event).empty());  // shown by the warning, not as a line
}

TEST(OutputTest, ChatAndHistoryJson) {
  MessageView message;
  message.peer = "bob";
  message.outgoing = true;
  message.device = 1;
  message.id_hex = "ab";
  message.text = "see you";
  message.sent_ms = 5;
  message.status = "delivered";
  EXPECT_EQ(message_json(message),
            "{\"peer\":\"bob\",\"direction\":\"out\",\"kind\":\"text\",\"device\":1,\"id\":\"ab\","
            "\"text\":\"see you\",\"sent_ms\":5,\"received_ms\":0,\"expires_at_ms\":0,"
            "\"status\":\"delivered\"}");
  ChatView chat;
  chat.peer = "bob";
  chat.unread = 2;
  EXPECT_NE(chat_json(chat).find("\"unread\":2"), std::string::npos);
  EXPECT_NE(chat_json(chat).find("\"last_message\":null"), std::string::npos);
  chat.has_last = true;
  chat.last = message;
  EXPECT_NE(chat_json(chat).find("\"last_message\":{\"peer\":\"bob\""), std::string::npos);
  EXPECT_NE(chat_text_line(chat).find("2 unread"), std::string::npos);
  EXPECT_NE(message_text_line(message).find("you: see you  (delivered)"), std::string::npos);
}

TEST(OutputTest, ChatPreviewCutsOnCharacterBoundary) {
  ChatView chat;
  chat.peer = "bob";
  chat.has_last = true;
  chat.last.text = std::string(39, 'a') + "é and more";  // 'é' straddles byte 40
  std::string line = chat_text_line(chat);
  EXPECT_NE(line.find(std::string(39, 'a') + "..."), std::string::npos);
}

TEST(OutputTest, PowProgress) {
  EXPECT_EQ(pow_progress_line(524288, 20),
            "proof of work: 524288 hashes, 50% of the 1048576 expected");
  EXPECT_EQ(pow_progress_line(2097152, 20),
            "proof of work: 2097152 hashes, 200% of the 1048576 expected");
  EXPECT_EQ(pow_progress_line(0, 0), "proof of work: 0 hashes, 0% of the 1 expected");
}

TEST(OutputTest, SafetyNumberInTwelveGroups) {
  std::string digits;
  for (int i = 0; i < 60; ++i) digits += static_cast<char>('0' + i % 10);
  std::string shown = format_safety_number(digits);
  EXPECT_EQ(shown, "01234 56789 01234 56789\n01234 56789 01234 56789\n01234 56789 01234 56789");
}

}  // namespace
}  // namespace parley::cli

namespace parley::cli {
namespace {

TEST(WrapWordsTest, BreaksAtSpacesWithinWidth) {
  EXPECT_EQ(wrap_words("one two three four", 9), "one two\nthree\nfour");
  EXPECT_EQ(wrap_words("short", 40), "short");
  EXPECT_EQ(wrap_words("averyveryverylongword x", 5), "averyveryverylongword\nx");
  EXPECT_EQ(wrap_words("keeps\nbreaks here", 40), "keeps\nbreaks here");
  EXPECT_EQ(wrap_words("", 10), "");
  std::string wrapped = wrap_words(
      "read the database passphrase from FILE (the first line; or set PARLEY_PASSPHRASE)", 30);
  std::size_t start = 0;
  while (start < wrapped.size()) {
    std::size_t end = wrapped.find('\n', start);
    if (end == std::string::npos) end = wrapped.size();
    EXPECT_LE(end - start, 30u);
    start = end + 1;
  }
}

}  // namespace
}  // namespace parley::cli

namespace parley::cli {
namespace {

TEST(OutputTest, FilesShowTheirNameSizeAndWhereTheyWereSaved) {
  Event message = message_from_bob("look");
  message.file_name = "photo\x1b[2J.jpg";
  message.file_size = 1536;
  std::string line = event_text(message);
  EXPECT_NE(line.find("look  [file: photo"), std::string::npos) << line;
  EXPECT_NE(line.find(", 1.5 KiB]"), std::string::npos) << line;
  EXPECT_EQ(line.find('\x1b'), std::string::npos);
  EXPECT_NE(event_json(message).find("\"file_name\":\"photo\\u001b[2J.jpg\",\"file_size\":1536"),
            std::string::npos)
      << event_json(message);
  EXPECT_EQ(event_json(message_from_bob("x")).find("file_name"), std::string::npos);

  Event saved = message_from_bob("/home/bob/downloads/photo.jpg");
  saved.kind = Event::Kind::kFileReceived;
  saved.file_name = "photo.jpg";
  saved.file_size = 10UL * 1024 * 1024;
  EXPECT_EQ(event_text(saved), "file from bob saved: /home/bob/downloads/photo.jpg (10.0 MiB)");
  EXPECT_EQ(event_json(saved),
            "{\"event\":\"file_received\",\"from\":\"bob\",\"account\":"
            "\"00112233445566778899aabbccddeeff\",\"id\":\"0a0b0c0d0e0f10111213141516171819\","
            "\"file_name\":\"photo.jpg\",\"file_size\":10485760,\"path\":"
            "\"/home/bob/downloads/photo.jpg\",\"outgoing\":false}");
}

}  // namespace
}  // namespace parley::cli

namespace parley::cli {
namespace {

TEST(OutputTest, GroupEventsNameTheirGroup) {
  Event message = message_from_bob("hi all");
  message.group_id_hex = "ffeeddccbbaa99887766554433221100";
  message.group_name = "climbers\x1b[2J";
  std::string line = event_text(message);
  EXPECT_NE(line.find("] bob in climbers"), std::string::npos) << line;
  EXPECT_NE(line.find("[2J: hi all"), std::string::npos) << line;
  EXPECT_EQ(line.find('\x1b'), std::string::npos);
  std::string json = event_json(message);
  EXPECT_NE(json.find(",\"group_id\":\"ffeeddccbbaa99887766554433221100\",\"group\":"
                      "\"climbers\\u001b[2J\"}"),
            std::string::npos)
      << json;

  Event changed;
  changed.kind = Event::Kind::kGroupChanged;
  changed.peer_username = "alice";
  changed.group_id_hex = "ffeeddccbbaa99887766554433221100";
  changed.body = "alice added carol";
  EXPECT_EQ(event_text(changed), "[-] group ffeeddcc: alice added carol");
  EXPECT_EQ(event_json(changed),
            "{\"event\":\"group_changed\",\"by\":\"alice\",\"account\":\"\",\"text\":\"alice "
            "added carol\",\"sent_ms\":0,\"group_id\":\"ffeeddccbbaa99887766554433221100\","
            "\"group\":\"\"}");
  EXPECT_EQ(event_json(message_from_bob("x")).find("group"), std::string::npos);
}

TEST(OutputTest, HistoryLinesShowTheFileAndItsState) {
  MessageView message;
  message.peer = "bob";
  message.text = "the route";
  message.has_file = true;
  message.file_name = "route\x1b[2J.pdf";
  message.file_size = 3UL * 1024 * 1024;
  message.file_state = "downloading";
  std::string line = message_text_line(message);
  EXPECT_NE(line.find("bob: the route"), std::string::npos);
  EXPECT_NE(line.find("[file route"), std::string::npos);
  EXPECT_NE(line.find("downloading]"), std::string::npos);
  EXPECT_EQ(line.find('\x1b'), std::string::npos);

  message.file_state = "done";
  message.file_path = "/home/bob/Downloads/route.pdf";
  EXPECT_NE(message_text_line(message).find(", /home/bob/Downloads/route.pdf]"), std::string::npos);

  message.group_id = "00112233445566778899aabbccddeeff";
  std::string json = message_json(message);
  EXPECT_NE(json.find("\"group_id\":\"00112233445566778899aabbccddeeff\""), std::string::npos);
  EXPECT_NE(json.find("\"file\":{\"name\":"), std::string::npos);
  EXPECT_NE(json.find("\"state\":\"done\""), std::string::npos);
  EXPECT_NE(json.find("\"size\":3145728"), std::string::npos);
}

}  // namespace
}  // namespace parley::cli
