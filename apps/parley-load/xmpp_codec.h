// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// The XMPP (RFC 6120/6121) subset parley-load speaks to ejabberd, as pure functions: the stanzas a
// client writes (stream header, in-band registration (XEP-0077), SASL PLAIN, resource binding,
// presence, messages, stream management (XEP-0198)) and an incremental reader that splits the
// server's byte stream into top-level stanzas.
//
// The reader is not a general XML parser. It handles what servers send on a client stream:
// start/end/self-closing tags with single- or double-quoted attributes (a quoted '>' or '/' is
// data), text with the five predefined entities and character references, the XML declaration,
// and the <stream:stream> opener at depth 0 (again at depth 1 after a stream restart).
// Comments, CDATA, DTDs and processing instructions other than the declaration are errors (RFC
// 6120 §11.1 forbids most of them). Sizes are bounded; bad input is a Status, never a crash.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "parley/util/status.h"

namespace parley::load::xmpp {

inline constexpr std::string_view kSmNamespace = "urn:xmpp:sm:3";

// ---- Writing -------------------------------------------------------------------------------

// Escapes text or an attribute value (both quote kinds, so either quoting works).
std::string escape(std::string_view text);

// The client's stream header (also sent again after SASL success: the stream restart).
std::string stream_header(std::string_view domain);
inline constexpr std::string_view kStreamEnd = "</stream:stream>";
// A whitespace keepalive (RFC 6120 §4.6.1).
inline constexpr std::string_view kWhitespaceKeepalive = " ";

// XEP-0077 in-band registration of `username` on the server the stream is open to.
std::string register_iq(std::string_view id, std::string_view username, std::string_view password);
// SASL PLAIN (RFC 4616) with an empty authorization identity.
std::string auth_plain(std::string_view username, std::string_view password);
std::string bind_iq(std::string_view id, std::string_view resource);
// The legacy session IQ (RFC 3921); only needed when the server's features require it.
std::string session_iq(std::string_view id);
// Initial presence: makes the session available (and, on ejabberd, releases offline messages).
std::string presence();

// XEP-0198: enable (without resumption), request an ack, answer a request with `h` stanzas.
std::string sm_enable();
std::string sm_request();
std::string sm_answer(std::uint32_t handled);

// A chat message to `to` whose body is `payload` base64-encoded (payloads are binary).
std::string message(std::string_view to, std::string_view id, std::string_view payload);

// ---- Reading -------------------------------------------------------------------------------

struct Element {
  std::string name;  // as written, with any prefix: "message", "stream:features", "a"
  std::vector<std::pair<std::string, std::string>> attributes;  // values unescaped
  std::vector<Element> children;
  std::string text;  // this element's own text, unescaped and concatenated

  // The value of attribute `key`, or empty.
  std::string_view attribute(std::string_view key) const;
  bool has_attribute(std::string_view key) const;
  // The first direct child named `child_name` (with prefix, as written), or nullptr.
  const Element* child(std::string_view child_name) const;
};

struct Event {
  enum class Kind {
    kStreamOpen,   // the server's <stream:stream ...> (element has its attributes, no children)
    kStanza,       // a complete top-level element: a stanza, stream features, SASL, SM, errors
    kStreamClose,  // </stream:stream>
  };
  Kind kind = Kind::kStanza;
  Element element;
};

class StreamReader {
 public:
  static constexpr std::size_t kDefaultMaxStanzaBytes = 1 << 20;
  static constexpr int kMaxDepth = 32;
  static constexpr std::size_t kMaxAttributes = 64;

  explicit StreamReader(std::size_t max_stanza_bytes = kDefaultMaxStanzaBytes)
      : max_stanza_bytes_(max_stanza_bytes) {}

  // Takes the next bytes of the stream (any split) and appends every event they complete to
  // `events`, in order. After an error the reader stays failed and returns the same error.
  Status feed(std::string_view bytes, std::vector<Event>& events);

  // Bytes held for an unfinished stanza (bounded by max_stanza_bytes).
  std::size_t buffered() const { return buffer_.size(); }

 private:
  Status fail(Status status);
  Status on_tag_end(std::size_t tag_end, std::vector<Event>& events);

  std::size_t max_stanza_bytes_;
  std::string buffer_;            // from the start of the unfinished stanza or tag
  std::size_t pos_ = 0;           // next byte of buffer_ to scan
  std::size_t tag_start_ = 0;     // '<' of the tag being scanned (valid while in_tag_)
  std::size_t stanza_start_ = 0;  // '<' of the current top-level element (valid at depth ≥ 2)
  int depth_ = 0;                 // 0: before the stream; 1: between stanzas; ≥ 2: in a stanza
  bool in_tag_ = false;
  char quote_ = 0;        // the open quote inside a tag, or 0
  char last_in_tag_ = 0;  // last non-space character of the tag outside quotes
  Status failed_;
};

// Parses one complete element (the text of a top-level stanza). Exposed for tests.
Result<Element> parse_element(std::string_view text);

// ---- Interpreting ---------------------------------------------------------------------------

// The name without its prefix: "stream:error" → "error".
std::string_view local_name(std::string_view name);
// XEP-0198 <a h='…'/> or <r/> of the sm:3 namespace.
bool is_sm_request(const Element& element);
bool is_sm_answer(const Element& element);
// The `h` of an <a/>: a 32-bit counter (it wraps; RFC says modulo 2^32).
Result<std::uint32_t> sm_handled(const Element& element);
// The defined condition of a <stream:error>, a SASL <failure> or a stanza's <error>
// ("conflict", "not-authorized", …), or empty.
std::string error_condition(const Element& element);
// The payload carried by a message's body (base64-decoded), kNotFound without a body.
Result<std::string> message_payload(const Element& message);

}  // namespace parley::load::xmpp
