// SPDX-License-Identifier: AGPL-3.0-or-later
#include "xmpp_codec.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "parley/util/bytes.h"
#include "parley/util/encoding.h"

namespace parley::load::xmpp {
namespace {

// A server's side of a session, as ejabberd 23.01 writes it (captured from a real run).
constexpr std::string_view kServerStream =
    "<?xml version='1.0'?><stream:stream id='3110076964579216174' version='1.0' xml:lang='en' "
    "xmlns:stream='http://etherx.jabber.org/streams' from='localhost' "
    "xmlns='jabber:client'><stream:features><mechanisms "
    "xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism><mechanism>SCRAM-SHA-"
    "256</mechanism></mechanisms><register "
    "xmlns='http://jabber.org/features/iq-register'/></stream:features>"
    "<iq xml:lang='en' from='localhost' type='result' id='reg1'/>"
    "<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/>"
    // The restart: a new declaration and opener without closing the first stream.
    "<?xml version='1.0'?><stream:stream id='1119' version='1.0' xml:lang='en' "
    "xmlns:stream='http://etherx.jabber.org/streams' from='localhost' "
    "xmlns='jabber:client'><stream:features><bind "
    "xmlns='urn:ietf:params:xml:ns:xmpp-bind'/><sm xmlns='urn:xmpp:sm:3'/></stream:features>"
    "<iq type='result' id='b1'><bind "
    "xmlns='urn:ietf:params:xml:ns:xmpp-bind'><jid>u1@localhost/r</jid></bind></iq>"
    "<enabled xmlns='urn:xmpp:sm:3'/>"
    "<r xmlns='urn:xmpp:sm:3'/> \n"
    "<a h='2' xmlns='urn:xmpp:sm:3'/><message xml:lang='en' to='u1@localhost' "
    "from='u0@localhost/r' type='chat' id='m1'><archived by='u1@localhost' id='17954' "
    "xmlns='urn:xmpp:mam:tmp'/><body>hello &lt;x&gt; &amp; &quot;y&quot; &apos;z&apos; "
    "&#65;&#x42;</body></message>"
    "</stream:stream>";

std::vector<Event> feed_all(StreamReader& reader, std::string_view bytes, std::size_t chunk) {
  std::vector<Event> events;
  for (std::size_t i = 0; i < bytes.size(); i += chunk) {
    const Status status = reader.feed(bytes.substr(i, chunk), events);
    EXPECT_TRUE(status.ok()) << status.to_string() << " at byte " << i;
    if (!status.ok()) break;
  }
  return events;
}

void expect_session(const std::vector<Event>& events) {
  ASSERT_EQ(events.size(), 12u);
  EXPECT_EQ(events[0].kind, Event::Kind::kStreamOpen);
  EXPECT_EQ(events[0].element.attribute("from"), "localhost");
  EXPECT_EQ(events[0].element.attribute("id"), "3110076964579216174");

  const Element& features = events[1].element;
  EXPECT_EQ(events[1].kind, Event::Kind::kStanza);
  EXPECT_EQ(features.name, "stream:features");
  EXPECT_EQ(local_name(features.name), "features");
  ASSERT_NE(features.child("mechanisms"), nullptr);
  ASSERT_EQ(features.child("mechanisms")->children.size(), 2u);
  EXPECT_EQ(features.child("mechanisms")->children[0].text, "PLAIN");
  EXPECT_NE(features.child("register"), nullptr);

  EXPECT_EQ(events[2].element.name, "iq");
  EXPECT_EQ(events[2].element.attribute("type"), "result");
  EXPECT_EQ(events[2].element.attribute("id"), "reg1");
  EXPECT_EQ(events[3].element.name, "success");

  EXPECT_EQ(events[4].kind, Event::Kind::kStreamOpen);
  EXPECT_EQ(events[4].element.attribute("id"), "1119");
  EXPECT_NE(events[5].element.child("sm"), nullptr);
  const Element* bind = events[6].element.child("bind");
  ASSERT_NE(bind, nullptr);
  ASSERT_NE(bind->child("jid"), nullptr);
  EXPECT_EQ(bind->child("jid")->text, "u1@localhost/r");
  EXPECT_EQ(events[7].element.name, "enabled");

  EXPECT_TRUE(is_sm_request(events[8].element));
  EXPECT_FALSE(is_sm_answer(events[8].element));
  EXPECT_TRUE(is_sm_answer(events[9].element));
  auto h = sm_handled(events[9].element);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(*h, 2u);

  const Element& message = events[10].element;
  EXPECT_EQ(message.name, "message");
  EXPECT_EQ(message.attribute("from"), "u0@localhost/r");
  EXPECT_EQ(message.attribute("id"), "m1");
  ASSERT_EQ(message.children.size(), 2u);
  ASSERT_NE(message.child("body"), nullptr);
  EXPECT_EQ(message.child("body")->text, "hello <x> & \"y\" 'z' AB");

  EXPECT_EQ(events[11].kind, Event::Kind::kStreamClose);
}

TEST(XmppReaderTest, SplitsAWholeSessionAtOnce) {
  StreamReader reader;
  expect_session(feed_all(reader, kServerStream, kServerStream.size()));
  EXPECT_EQ(reader.buffered(), 0u);
}

TEST(XmppReaderTest, SplitsAWholeSessionFedByteByByte) {
  StreamReader reader;
  expect_session(feed_all(reader, kServerStream, 1));
}

TEST(XmppReaderTest, SplitsAWholeSessionInOddChunks) {
  for (std::size_t chunk : {2u, 3u, 7u, 13u, 64u}) {
    StreamReader reader;
    expect_session(feed_all(reader, kServerStream, chunk));
  }
}

TEST(XmppReaderTest, QuotedGreaterThanAndSlashAreData) {
  StreamReader reader;
  std::vector<Event> events;
  ASSERT_TRUE(reader.feed("<stream:stream from='a'>", events).ok());
  // A '>' and a '/' inside quotes must neither end the tag nor make it self-closing.
  const std::string stanza =
      "<message id='a>b/' to=\"x/>y\" type='chat'><body>1 > 0</body><x y='/'/></message>"
      "<presence from='p/'/>";
  for (char c : stanza) ASSERT_TRUE(reader.feed(std::string_view(&c, 1), events).ok());
  ASSERT_EQ(events.size(), 3u);
  const Element& message = events[1].element;
  EXPECT_EQ(message.attribute("id"), "a>b/");
  EXPECT_EQ(message.attribute("to"), "x/>y");
  EXPECT_EQ(message.child("body")->text, "1 > 0");
  ASSERT_NE(message.child("x"), nullptr);
  EXPECT_EQ(message.child("x")->attribute("y"), "/");
  EXPECT_EQ(events[2].element.name, "presence");
  EXPECT_EQ(events[2].element.attribute("from"), "p/");
  EXPECT_TRUE(events[2].element.children.empty());
}

TEST(XmppReaderTest, NestedElementsOfTheSameNameStayInOneStanza) {
  StreamReader reader;
  std::vector<Event> events;
  ASSERT_TRUE(reader.feed("<stream:stream>", events).ok());
  ASSERT_TRUE(
      reader.feed("<iq id='1'><query><iq><iq/></iq></query></iq><iq id='2'/>", events).ok());
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1].element.attribute("id"), "1");
  ASSERT_NE(events[1].element.child("query"), nullptr);
  ASSERT_NE(events[1].element.child("query")->child("iq"), nullptr);
  EXPECT_NE(events[1].element.child("query")->child("iq")->child("iq"), nullptr);
  EXPECT_EQ(events[2].element.attribute("id"), "2");
}

TEST(XmppReaderTest, WhitespaceKeepalivesBetweenStanzasAreIgnored) {
  StreamReader reader;
  std::vector<Event> events;
  ASSERT_TRUE(reader.feed("<stream:stream>  \n ", events).ok());
  ASSERT_TRUE(reader.feed(" <r xmlns='urn:xmpp:sm:3'/>\t \r\n", events).ok());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(is_sm_request(events[1].element));
}

TEST(XmppReaderTest, ErrorsNameTheirCondition) {
  StreamReader reader;
  std::vector<Event> events;
  ASSERT_TRUE(reader
                  .feed("<stream:stream><failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"
                        "<not-authorized/><text>bad</text></failure>"
                        "<iq type='error' id='r'><error type='cancel'><text/><conflict "
                        "xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>"
                        "<stream:error><host-unknown "
                        "xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>"
                        "<iq type='result' id='ok'/>",
                        events)
                  .ok());
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(error_condition(events[1].element), "not-authorized");
  EXPECT_EQ(error_condition(events[2].element), "conflict");
  EXPECT_EQ(error_condition(events[3].element), "host-unknown");
  EXPECT_EQ(error_condition(events[4].element), "");
}

TEST(XmppReaderTest, RejectsGarbageWithAnErrorAndStaysFailed) {
  const std::vector<std::string> bad = {
      "hello",                                // text before the stream
      "<message/>",                           // a stanza before the stream header
      "<stream:stream>text",                  // text between stanzas
      "<stream:stream><a></b>",               // mismatched end tag
      "<stream:stream><!-- comment -->",      // comments are not XMPP
      "<stream:stream><a><![CDATA[x]]></a>",  // CDATA
      "<stream:stream><?php x?>",             // processing instruction
      "<stream:stream><a x='1' x2></a>",      // attribute without a value
      "<stream:stream><a x=1/>",              // unquoted attribute
      "<stream:stream><a>&bogus;</a>",        // unknown entity
      "<stream:stream><a>&#0;</a>",           // NUL character reference
      "<stream:stream><a>&#xD800;</a>",       // surrogate
      "<stream:stream><a>& x</a>",            // bare ampersand
      "<stream:stream><a x='<'/>",            // '<' in an attribute value
      "<stream:stream><a <b/>",               // '<' inside a tag
      "<stream:stream></x>",                  // end tag that is not the stream's
      "<stream:stream><1a/>",                 // bad name
      "<stream:stream><a x='1'y='2'/>",       // attributes run together
  };
  for (const std::string& input : bad) {
    StreamReader reader;
    std::vector<Event> events;
    const Status status = reader.feed(input, events);
    EXPECT_FALSE(status.ok()) << input;
    EXPECT_EQ(status.code(), ErrorCode::kMalformedInput) << input;
    // Once failed, always failed: later good bytes do not resynchronize on garbage.
    EXPECT_FALSE(reader.feed("<r xmlns='urn:xmpp:sm:3'/>", events).ok()) << input;
  }
}

TEST(XmppReaderTest, DeepNestingIsAnErrorNotAStackOverflow) {
  StreamReader reader;
  std::vector<Event> events;
  std::string deep = "<stream:stream>";
  for (int i = 0; i < 10'000; ++i) deep += "<a>";
  const Status status = reader.feed(deep, events);
  EXPECT_EQ(status.code(), ErrorCode::kMalformedInput);

  std::string nested;
  for (int i = 0; i < 1000; ++i) nested += "<a>";
  for (int i = 0; i < 1000; ++i) nested += "</a>";
  EXPECT_FALSE(parse_element(nested).ok());
}

TEST(XmppReaderTest, OversizeStanzasAndTagsAreRefused) {
  {
    StreamReader reader(1024);
    std::vector<Event> events;
    ASSERT_TRUE(reader.feed("<stream:stream><message><body>", events).ok());
    const Status status = reader.feed(std::string(2000, 'x'), events);
    EXPECT_EQ(status.code(), ErrorCode::kTooLarge);
  }
  {
    // An unterminated quote keeps the tag open: it must hit the limit, not grow forever.
    StreamReader reader(1024);
    std::vector<Event> events;
    ASSERT_TRUE(reader.feed("<stream:stream><a x='", events).ok());
    Status status;
    for (int i = 0; i < 100 && status.ok(); ++i)
      status = reader.feed(std::string(100, '>'), events);
    EXPECT_EQ(status.code(), ErrorCode::kTooLarge);
  }
  {
    // Just under the limit is fine, and the buffer is released afterwards.
    StreamReader reader(1024);
    std::vector<Event> events;
    ASSERT_TRUE(reader.feed("<stream:stream>", events).ok());
    const std::string stanza = "<m>" + std::string(1000, 'y') + "</m>";
    ASSERT_TRUE(reader.feed(stanza, events).ok());
    ASSERT_EQ(events.size(), 2u);
    EXPECT_EQ(events[1].element.text.size(), 1000u);
    EXPECT_EQ(reader.buffered(), 0u);
  }
}

TEST(XmppReaderTest, MutatedStreamsNeverCrashAndFailuresStick) {
  // A cheap stand-in for a fuzzer: flip, drop and duplicate bytes of a real session, feed the
  // result in random pieces. Whatever happens must be a clean event or a Status.
  std::mt19937 random(20261124);
  std::size_t failures = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string input(kServerStream);
    const int edits = 1 + static_cast<int>(random() % 4);
    for (int e = 0; e < edits && !input.empty(); ++e) {
      const std::size_t at = random() % input.size();
      switch (random() % 3) {
        case 0:
          input[at] = "<>/'\"=&;x \0"[random() % 11];
          break;
        case 1:
          input.erase(at, 1 + random() % 8);
          break;
        default:
          input.insert(at, input.substr(at, 1 + random() % 16));
          break;
      }
    }
    StreamReader reader(4096);
    std::vector<Event> events;
    Status status;
    std::size_t i = 0;
    while (i < input.size() && status.ok()) {
      const std::size_t n = 1 + random() % 64;
      status = reader.feed(std::string_view(input).substr(i, n), events);
      i += n;
    }
    if (!status.ok()) {
      ++failures;
      EXPECT_TRUE(status.code() == ErrorCode::kMalformedInput ||
                  status.code() == ErrorCode::kTooLarge);
      EXPECT_EQ(reader.feed("<a/>", events), status);
    }
    EXPECT_LE(reader.buffered(), 4096u + 64u);
  }
  EXPECT_GT(failures, 0u);  // the mutations do produce bad XML, and it is reported
}

TEST(XmppReaderTest, TooManyAttributesIsAnError) {
  std::string tag = "<a";
  for (std::size_t i = 0; i <= StreamReader::kMaxAttributes; ++i) {
    tag += " k" + std::to_string(i) + "='v'";
  }
  tag += "/>";
  EXPECT_EQ(parse_element(tag).status().code(), ErrorCode::kMalformedInput);
}

TEST(XmppReaderTest, SmCounterMustBeANumber) {
  for (std::string_view bad :
       {"<a xmlns='urn:xmpp:sm:3'/>", "<a xmlns='urn:xmpp:sm:3' h=''/>",
        "<a xmlns='urn:xmpp:sm:3' h='-1'/>", "<a xmlns='urn:xmpp:sm:3' h='4294967296'/>",
        "<a xmlns='urn:xmpp:sm:3' h='12x'/>"}) {
    auto element = parse_element(bad);
    ASSERT_TRUE(element.ok()) << bad;
    EXPECT_FALSE(sm_handled(*element).ok()) << bad;
  }
  auto max = parse_element("<a xmlns='urn:xmpp:sm:3' h='4294967295'/>");
  ASSERT_TRUE(max.ok());
  EXPECT_EQ(*sm_handled(*max), 4294967295u);
}

TEST(XmppWriterTest, WritesTheStanzasTheDriverSends) {
  EXPECT_EQ(stream_header("localhost"),
            "<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' "
            "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>");
  EXPECT_EQ(sm_answer(42), "<a xmlns='urn:xmpp:sm:3' h='42'/>");
  EXPECT_EQ(sm_request(), "<r xmlns='urn:xmpp:sm:3'/>");
  EXPECT_EQ(escape("a<b>&'\""), "a&lt;b&gt;&amp;&apos;&quot;");

  // SASL PLAIN carries "\0user\0password" in base64.
  auto auth = parse_element(auth_plain("load7", "pw"));
  ASSERT_TRUE(auth.ok());
  EXPECT_EQ(auth->attribute("mechanism"), "PLAIN");
  auto credentials = base64_decode(auth->text);
  ASSERT_TRUE(credentials.ok());
  EXPECT_EQ(std::string(as_string_view(*credentials)), std::string("\0load7\0pw", 9));

  // Writers escape what they are given, and every writer's output parses back.
  auto reg = parse_element(register_iq("r1", "a<b", "p&'w"));
  ASSERT_TRUE(reg.ok());
  EXPECT_EQ(reg->attribute("type"), "set");
  ASSERT_NE(reg->child("query"), nullptr);
  EXPECT_EQ(reg->child("query")->attribute("xmlns"), "jabber:iq:register");
  EXPECT_EQ(reg->child("query")->child("username")->text, "a<b");
  EXPECT_EQ(reg->child("query")->child("password")->text, "p&'w");

  auto bind = parse_element(bind_iq("b1", "res"));
  ASSERT_TRUE(bind.ok());
  EXPECT_EQ(bind->child("bind")->child("resource")->text, "res");
  EXPECT_TRUE(parse_element(session_iq("s1")).ok());
  EXPECT_TRUE(parse_element(presence()).ok());
  EXPECT_TRUE(parse_element(sm_enable()).ok());
}

TEST(XmppWriterTest, BinaryPayloadRoundTripsThroughABase64Body) {
  std::string payload;
  for (int i = 0; i < 300; ++i) payload += static_cast<char>(i * 7);  // every byte value kind
  payload += std::string("\0<&>'\"", 6);
  const std::string stanza = message("load1@localhost", "m'1", payload);

  // Through the reader, fed in pieces, as a receiver sees it.
  StreamReader reader;
  std::vector<Event> events;
  ASSERT_TRUE(reader.feed("<stream:stream>", events).ok());
  for (std::size_t i = 0; i < stanza.size(); i += 5) {
    ASSERT_TRUE(reader.feed(std::string_view(stanza).substr(i, 5), events).ok());
  }
  ASSERT_EQ(events.size(), 2u);
  const Element& received = events[1].element;
  EXPECT_EQ(received.attribute("to"), "load1@localhost");
  EXPECT_EQ(received.attribute("id"), "m'1");
  EXPECT_EQ(received.attribute("type"), "chat");
  auto decoded = message_payload(received);
  ASSERT_TRUE(decoded.ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, payload);

  auto no_body = parse_element("<message/>");
  ASSERT_TRUE(no_body.ok());
  EXPECT_EQ(message_payload(*no_body).status().code(), ErrorCode::kNotFound);
  auto bad_body = parse_element("<message><body>not base64!</body></message>");
  ASSERT_TRUE(bad_body.ok());
  EXPECT_FALSE(message_payload(*bad_body).ok());
}

}  // namespace
}  // namespace parley::load::xmpp
